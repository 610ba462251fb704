DROP INDEX "cameras_serial_trgm_idx";--> statement-breakpoint
CREATE INDEX "cameras_serial_trgm_idx" ON "cameras" USING gin (lower("serial") gin_trgm_ops);