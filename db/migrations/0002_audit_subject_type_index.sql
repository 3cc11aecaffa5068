DROP INDEX "audit_events_subject_idx";--> statement-breakpoint
CREATE INDEX "audit_events_subject_idx" ON "audit_events" USING btree ("subject_id","type","id");