DROP INDEX "open_failures_failed_idx";--> statement-breakpoint
CREATE INDEX "open_failures_decision_generator_idx" ON "open_failures" USING btree ("decision","generator","failed_at");--> statement-breakpoint
CREATE INDEX "open_failures_decision_failed_idx" ON "open_failures" USING btree ("decision","failed_at");