CREATE TABLE "agent_messages" (
	"agent_id" uuid NOT NULL,
	"message_id" uuid NOT NULL,
	"type" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"error" jsonb,
	"frame" text,
	CONSTRAINT "agent_messages_agent_id_message_id_pk" PRIMARY KEY("agent_id","message_id")
);
--> statement-breakpoint
CREATE TABLE "camera_site_conflicts" (
	"serial" text NOT NULL,
	"agent_id" uuid NOT NULL,
	"site_id" uuid NOT NULL,
	"url" text NOT NULL,
	"address" text NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "camera_site_conflicts_serial_agent_id_pk" PRIMARY KEY("serial","agent_id")
);
--> statement-breakpoint
CREATE TABLE "enrollment_tokens" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"site_id" uuid NOT NULL,
	"token_hash" text NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"used_by_agent" uuid,
	CONSTRAINT "enrollment_tokens_hash_format" CHECK ("enrollment_tokens"."token_hash" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "enrollment_tokens_used_together" CHECK (("enrollment_tokens"."used_at" is null) = ("enrollment_tokens"."used_by_agent" is null))
);
--> statement-breakpoint
CREATE TABLE "inventory_snapshot_parts" (
	"agent_id" uuid NOT NULL,
	"snapshot_id" uuid NOT NULL,
	"part" integer NOT NULL,
	"parts" integer NOT NULL,
	"serials" text[] NOT NULL,
	"sent_at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inventory_snapshot_parts_agent_id_snapshot_id_part_pk" PRIMARY KEY("agent_id","snapshot_id","part")
);
--> statement-breakpoint
ALTER TABLE "cameras" ALTER COLUMN "access_state" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "cameras" ALTER COLUMN "access_state" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "agents" ADD COLUMN "status" text DEFAULT 'pending' NOT NULL;--> statement-breakpoint
ALTER TABLE "agents" ADD COLUMN "protocol_version" integer;--> statement-breakpoint
ALTER TABLE "agents" ADD COLUMN "capabilities" jsonb;--> statement-breakpoint
ALTER TABLE "agents" ADD COLUMN "session_id" text;--> statement-breakpoint
ALTER TABLE "agents" ADD COLUMN "connected_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "agents" ADD COLUMN "disconnected_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "agents" ADD COLUMN "outbox_depth" integer;--> statement-breakpoint
ALTER TABLE "agents" ADD COLUMN "running_commands" integer;--> statement-breakpoint
ALTER TABLE "agents" ADD COLUMN "revoked_by" uuid;--> statement-breakpoint
ALTER TABLE "cameras" ADD COLUMN "mac" text;--> statement-breakpoint
ALTER TABLE "cameras" ADD COLUMN "url" text;--> statement-breakpoint
ALTER TABLE "cameras" ADD COLUMN "source" text;--> statement-breakpoint
ALTER TABLE "cameras" ADD COLUMN "agent_id" uuid;--> statement-breakpoint
ALTER TABLE "cameras" ADD COLUMN "lost_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "commands" ADD COLUMN "payload" jsonb;--> statement-breakpoint
ALTER TABLE "commands" ADD COLUMN "secrets_ref" jsonb;--> statement-breakpoint
ALTER TABLE "commands" ADD COLUMN "nonce" text;--> statement-breakpoint
ALTER TABLE "commands" ADD COLUMN "issued_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "commands" ADD COLUMN "expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "commands" ADD COLUMN "dispatched_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "commands" ADD COLUMN "dispatch_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "commands" ADD COLUMN "acked_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "commands" ADD COLUMN "progress" jsonb;--> statement-breakpoint
ALTER TABLE "agent_messages" ADD CONSTRAINT "agent_messages_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "camera_site_conflicts" ADD CONSTRAINT "camera_site_conflicts_serial_cameras_serial_fk" FOREIGN KEY ("serial") REFERENCES "public"."cameras"("serial") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "camera_site_conflicts" ADD CONSTRAINT "camera_site_conflicts_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "camera_site_conflicts" ADD CONSTRAINT "camera_site_conflicts_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "enrollment_tokens" ADD CONSTRAINT "enrollment_tokens_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "enrollment_tokens" ADD CONSTRAINT "enrollment_tokens_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "enrollment_tokens" ADD CONSTRAINT "enrollment_tokens_used_by_agent_agents_id_fk" FOREIGN KEY ("used_by_agent") REFERENCES "public"."agents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inventory_snapshot_parts" ADD CONSTRAINT "inventory_snapshot_parts_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "agent_messages_received_idx" ON "agent_messages" USING btree ("received_at");--> statement-breakpoint
CREATE INDEX "camera_site_conflicts_site_idx" ON "camera_site_conflicts" USING btree ("site_id");--> statement-breakpoint
CREATE UNIQUE INDEX "enrollment_tokens_hash_key" ON "enrollment_tokens" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "enrollment_tokens_site_idx" ON "enrollment_tokens" USING btree ("site_id");--> statement-breakpoint
CREATE INDEX "inventory_snapshot_parts_received_idx" ON "inventory_snapshot_parts" USING btree ("received_at");--> statement-breakpoint
ALTER TABLE "agents" ADD CONSTRAINT "agents_revoked_by_users_id_fk" FOREIGN KEY ("revoked_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cameras" ADD CONSTRAINT "cameras_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "commands_nonce_key" ON "commands" USING btree ("nonce");--> statement-breakpoint
CREATE INDEX "commands_pending_expiry_idx" ON "commands" USING btree ("expires_at") WHERE "commands"."status" in ('queued', 'dispatched');