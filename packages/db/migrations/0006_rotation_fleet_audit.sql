CREATE TABLE "fleet_audit_settings" (
	"org_id" uuid PRIMARY KEY NOT NULL,
	"firmware_floor" text,
	"stale_after_days" integer DEFAULT 30 NOT NULL,
	"snapshot_interval_hours" integer DEFAULT 24 NOT NULL,
	"updated_by" uuid,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "fleet_audit_snapshots" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"taken_at" timestamp with time zone DEFAULT now() NOT NULL,
	"trigger" text NOT NULL,
	"camera_count" integer NOT NULL,
	"totals" jsonb NOT NULL,
	"sites" jsonb NOT NULL,
	"settings" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rotation_items" (
	"job_id" uuid NOT NULL,
	"serial" text NOT NULL,
	"site_id" uuid NOT NULL,
	"wave" integer NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"credential_id" uuid,
	"command_id" uuid,
	"error" jsonb,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "rotation_items_job_id_serial_pk" PRIMARY KEY("job_id","serial")
);
--> statement-breakpoint
CREATE TABLE "rotation_jobs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"selection" jsonb NOT NULL,
	"account" "credential_account" DEFAULT 'admin' NOT NULL,
	"canary_size" integer NOT NULL,
	"wave_size" integer NOT NULL,
	"max_failures" integer DEFAULT 0 NOT NULL,
	"status" text DEFAULT 'running' NOT NULL,
	"current_wave" integer DEFAULT 0 NOT NULL,
	"stop_reason" text,
	"created_by" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "vms_registrations" (
	"serial" text PRIMARY KEY NOT NULL,
	"platform" text DEFAULT '' NOT NULL,
	"source" text NOT NULL,
	"confirmed_by" uuid,
	"confirmed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "fleet_audit_settings" ADD CONSTRAINT "fleet_audit_settings_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fleet_audit_settings" ADD CONSTRAINT "fleet_audit_settings_updated_by_users_id_fk" FOREIGN KEY ("updated_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fleet_audit_snapshots" ADD CONSTRAINT "fleet_audit_snapshots_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rotation_items" ADD CONSTRAINT "rotation_items_job_id_rotation_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."rotation_jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rotation_items" ADD CONSTRAINT "rotation_items_serial_cameras_serial_fk" FOREIGN KEY ("serial") REFERENCES "public"."cameras"("serial") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rotation_items" ADD CONSTRAINT "rotation_items_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rotation_items" ADD CONSTRAINT "rotation_items_credential_id_credentials_id_fk" FOREIGN KEY ("credential_id") REFERENCES "public"."credentials"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rotation_items" ADD CONSTRAINT "rotation_items_command_id_commands_id_fk" FOREIGN KEY ("command_id") REFERENCES "public"."commands"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rotation_jobs" ADD CONSTRAINT "rotation_jobs_org_id_organisations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organisations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rotation_jobs" ADD CONSTRAINT "rotation_jobs_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "vms_registrations" ADD CONSTRAINT "vms_registrations_serial_cameras_serial_fk" FOREIGN KEY ("serial") REFERENCES "public"."cameras"("serial") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "vms_registrations" ADD CONSTRAINT "vms_registrations_confirmed_by_users_id_fk" FOREIGN KEY ("confirmed_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "fleet_audit_snapshots_org_idx" ON "fleet_audit_snapshots" USING btree ("org_id","taken_at");--> statement-breakpoint
CREATE INDEX "rotation_items_job_wave_idx" ON "rotation_items" USING btree ("job_id","wave","status");--> statement-breakpoint
CREATE INDEX "rotation_items_command_idx" ON "rotation_items" USING btree ("command_id");--> statement-breakpoint
CREATE UNIQUE INDEX "rotation_items_active_serial_key" ON "rotation_items" USING btree ("serial") WHERE "rotation_items"."status" in ('queued', 'changing', 'checking');--> statement-breakpoint
CREATE INDEX "rotation_jobs_org_idx" ON "rotation_jobs" USING btree ("org_id","created_at");--> statement-breakpoint
CREATE INDEX "rotation_jobs_active_idx" ON "rotation_jobs" USING btree ("status") WHERE "rotation_jobs"."status" in ('running', 'paused');--> statement-breakpoint
CREATE INDEX "commands_reset_serial_idx" ON "commands" USING btree ("serial","completed_at") WHERE "commands"."status" = 'succeeded' and "commands"."verb" in ('factory-default-soft', 'factory-default-hard', 'watch-for-device');--> statement-breakpoint
CREATE INDEX "verifications_serial_idx" ON "verifications" USING btree ("serial","created_at");