CREATE TABLE "credential_candidates" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"serial" text NOT NULL,
	"case_id" uuid,
	"username" text NOT NULL,
	"ciphertext" "bytea" NOT NULL,
	"wrapped_key" "bytea" NOT NULL,
	"key_id" text NOT NULL,
	"source" text DEFAULT '' NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"tested_at" timestamp with time zone,
	"outcome" text
);
--> statement-breakpoint
ALTER TABLE "approval_requests" ADD COLUMN "status" text DEFAULT 'pending' NOT NULL;--> statement-breakpoint
ALTER TABLE "approval_requests" ADD COLUMN "quorum" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "approval_requests" ADD COLUMN "decided_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "site_id" uuid;--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "details" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "verifications" ADD COLUMN "snapshot_document_id" uuid;--> statement-breakpoint
ALTER TABLE "credential_candidates" ADD CONSTRAINT "credential_candidates_serial_cameras_serial_fk" FOREIGN KEY ("serial") REFERENCES "public"."cameras"("serial") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "credential_candidates" ADD CONSTRAINT "credential_candidates_case_id_cases_id_fk" FOREIGN KEY ("case_id") REFERENCES "public"."cases"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "credential_candidates" ADD CONSTRAINT "credential_candidates_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "credential_candidates_serial_idx" ON "credential_candidates" USING btree ("serial","created_at");--> statement-breakpoint
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "verifications" ADD CONSTRAINT "verifications_snapshot_document_id_documents_id_fk" FOREIGN KEY ("snapshot_document_id") REFERENCES "public"."documents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "approval_requests_pending_idx" ON "approval_requests" USING btree ("site_id","requested_at") WHERE "approval_requests"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "approval_requests_case_idx" ON "approval_requests" USING btree ("case_id");--> statement-breakpoint
CREATE INDEX "audit_events_org_idx" ON "audit_events" USING btree ("org_id","seq");--> statement-breakpoint
CREATE INDEX "audit_events_site_idx" ON "audit_events" USING btree ("site_id","seq");--> statement-breakpoint
CREATE INDEX "audit_events_action_actor_idx" ON "audit_events" USING btree ("action","actor_id","at");--> statement-breakpoint
CREATE UNIQUE INDEX "cases_open_serial_key" ON "cases" USING btree ("serial") WHERE "cases"."status" not in ('documented', 'denied', 'cancelled');