DROP INDEX "open_failures_generator_idx";--> statement-breakpoint
DROP INDEX "open_failures_code_idx";--> statement-breakpoint
ALTER TABLE "open_failures" ADD COLUMN "decision" text DEFAULT 'open' NOT NULL;--> statement-breakpoint
CREATE INDEX "audit_events_actor_idx" ON "audit_events" USING btree ("actor","id");--> statement-breakpoint
CREATE INDEX "audit_events_created_idx" ON "audit_events" USING brin ("created_at");--> statement-breakpoint
CREATE INDEX "open_failures_decision_idx" ON "open_failures" USING btree ("decision","generator","error_code","failed_at");--> statement-breakpoint
CREATE INDEX "open_failures_decision_code_idx" ON "open_failures" USING btree ("decision","error_code","failed_at");--> statement-breakpoint
ALTER TABLE "open_failures" ADD CONSTRAINT "open_failures_decision" CHECK ("open_failures"."decision" IN ('open', 'pending', 'rejected'));