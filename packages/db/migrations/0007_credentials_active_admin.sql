ALTER TABLE "rotation_items" DROP CONSTRAINT "rotation_items_credential_id_credentials_id_fk";
--> statement-breakpoint
ALTER TABLE "rotation_items" ADD CONSTRAINT "rotation_items_credential_id_credentials_id_fk" FOREIGN KEY ("credential_id") REFERENCES "public"."credentials"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "credentials_active_admin_idx" ON "credentials" USING btree ("serial") WHERE "credentials"."account" = 'admin' and "credentials"."status" = 'active';