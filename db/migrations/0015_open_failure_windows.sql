DROP INDEX "open_failures_failed_idx";--> statement-breakpoint
CREATE INDEX "open_failures_decision_generator_idx" ON "open_failures" USING btree ("decision","generator","failed_at");--> statement-breakpoint
CREATE INDEX "open_failures_decision_failed_idx" ON "open_failures" USING btree ("decision","failed_at");--> statement-breakpoint

-- The decision column came without statistics (adding a column changes no row, so no
-- autovacuum analyses it): the planner took "open" for a few hundred rows of 250,000 and read
-- every match's index entry for a page's worth.
ANALYZE open_failures;
