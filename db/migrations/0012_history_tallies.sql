CREATE TABLE "open_failures" (
	"job_id" text PRIMARY KEY NOT NULL,
	"generator" text NOT NULL,
	"error_code" text NOT NULL,
	"failed_at" timestamp with time zone NOT NULL,
	"is_retry" boolean NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tallies" (
	"subject" text NOT NULL,
	"generator" text DEFAULT '' NOT NULL,
	"status" text NOT NULL,
	"code" text DEFAULT '' NOT NULL,
	"kind" text DEFAULT '' NOT NULL,
	"reason" text DEFAULT '' NOT NULL,
	"count" bigint NOT NULL,
	CONSTRAINT "tallies_subject" CHECK ("tallies"."subject" IN ('job', 'intent'))
);
--> statement-breakpoint
ALTER TABLE "open_failures" ADD CONSTRAINT "open_failures_job_id_regeneration_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."regeneration_jobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "open_failures_generator_idx" ON "open_failures" USING btree ("generator","error_code","failed_at");--> statement-breakpoint
CREATE INDEX "open_failures_code_idx" ON "open_failures" USING btree ("error_code","failed_at");--> statement-breakpoint
CREATE INDEX "open_failures_failed_idx" ON "open_failures" USING btree ("failed_at");--> statement-breakpoint
CREATE INDEX "regeneration_jobs_successors_created_idx" ON "regeneration_jobs" USING btree ("created_at") WHERE "regeneration_jobs"."retry_intent_id" IS NOT NULL;--> statement-breakpoint

-- Both are kept by the database's own triggers (SECURITY DEFINER): the application reads
-- them and cannot write a count or an open failure of its own. They are filled from the rows
-- already on record when the core that keeps them is first applied (regent_fill_tallies).
GRANT SELECT ON tallies, open_failures TO regent_app;
