CREATE TYPE "public"."api_token_role" AS ENUM('admin', 'viewer', 'submitter');--> statement-breakpoint
CREATE TYPE "public"."job_status" AS ENUM('PENDING', 'RUNNING', 'COMPLETED', 'FAILED');--> statement-breakpoint
CREATE TYPE "public"."retry_intent_status" AS ENUM('PENDING', 'CONSUMED', 'REJECTED');--> statement-breakpoint
CREATE TYPE "public"."retry_reason_code" AS ENUM('TRANSIENT_FAILURE', 'BAD_INPUT', 'IMPROVED_PROMPT', 'INFRA_ERROR', 'OTHER');--> statement-breakpoint
CREATE TABLE "api_tokens" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"role" "api_token_role" NOT NULL,
	"token_sha256" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_tokens_token_sha256_key" UNIQUE("token_sha256")
);
--> statement-breakpoint
CREATE TABLE "audit_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "audit_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"type" text NOT NULL,
	"actor" text NOT NULL,
	"subject_type" text NOT NULL,
	"subject_id" text NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"request_id" text,
	"ip" text,
	"user_agent" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"tx_id" "xid8" DEFAULT pg_current_xact_id() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"principal" text NOT NULL,
	"key" text NOT NULL,
	"method" text NOT NULL,
	"path" text NOT NULL,
	"request_sha256" text NOT NULL,
	"response_status" integer NOT NULL,
	"response_body" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_principal_key_pk" PRIMARY KEY("principal","key")
);
--> statement-breakpoint
CREATE TABLE "regeneration_jobs" (
	"id" text PRIMARY KEY NOT NULL,
	"generator" text NOT NULL,
	"input" jsonb NOT NULL,
	"status" "job_status" DEFAULT 'PENDING' NOT NULL,
	"retry_of_job_id" text,
	"retry_intent_id" text,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"claimed_by" text,
	"claimed_at" timestamp with time zone,
	"lease_expires_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"error" jsonb,
	CONSTRAINT "regeneration_jobs_retry_of_job_id_key" UNIQUE("retry_of_job_id"),
	CONSTRAINT "regeneration_jobs_retry_intent_id_key" UNIQUE("retry_intent_id"),
	CONSTRAINT "regeneration_jobs_lineage_together" CHECK (("regeneration_jobs"."retry_of_job_id" IS NULL) = ("regeneration_jobs"."retry_intent_id" IS NULL)),
	CONSTRAINT "regeneration_jobs_not_own_retry" CHECK ("regeneration_jobs"."retry_of_job_id" IS DISTINCT FROM "regeneration_jobs"."id"),
	CONSTRAINT "regeneration_jobs_generator_nonempty" CHECK (length(btrim("regeneration_jobs"."generator")) > 0),
	CONSTRAINT "regeneration_jobs_running_has_claim" CHECK ("regeneration_jobs"."status" <> 'RUNNING' OR ("regeneration_jobs"."claimed_by" IS NOT NULL AND "regeneration_jobs"."claimed_at" IS NOT NULL AND "regeneration_jobs"."lease_expires_at" IS NOT NULL)),
	CONSTRAINT "regeneration_jobs_pending_unclaimed" CHECK ("regeneration_jobs"."status" <> 'PENDING' OR ("regeneration_jobs"."claimed_by" IS NULL AND "regeneration_jobs"."claimed_at" IS NULL AND "regeneration_jobs"."lease_expires_at" IS NULL)),
	CONSTRAINT "regeneration_jobs_finished_at_iff_finished" CHECK (("regeneration_jobs"."finished_at" IS NOT NULL) = ("regeneration_jobs"."status" IN ('COMPLETED', 'FAILED'))),
	CONSTRAINT "regeneration_jobs_error_iff_failed" CHECK (("regeneration_jobs"."error" IS NOT NULL) = ("regeneration_jobs"."status" = 'FAILED')),
	CONSTRAINT "regeneration_jobs_error_shape" CHECK ("regeneration_jobs"."error" IS NULL OR (jsonb_typeof("regeneration_jobs"."error"->'code') = 'string' AND jsonb_typeof("regeneration_jobs"."error"->'message') = 'string'))
);
--> statement-breakpoint
CREATE TABLE "regeneration_outputs" (
	"id" text PRIMARY KEY NOT NULL,
	"job_id" text NOT NULL,
	"content" jsonb NOT NULL,
	"content_sha256" text NOT NULL,
	"generator_version" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "regeneration_outputs_job_id_key" UNIQUE("job_id")
);
--> statement-breakpoint
CREATE TABLE "retry_intents" (
	"id" text PRIMARY KEY NOT NULL,
	"source_job_id" text NOT NULL,
	"source_output_ref" text,
	"reason_code" "retry_reason_code" NOT NULL,
	"reason_text" text NOT NULL,
	"approved_by" text NOT NULL,
	"approved_at" timestamp with time zone DEFAULT now() NOT NULL,
	"status" "retry_intent_status" DEFAULT 'PENDING' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"consumed_by" text,
	"consumed_at" timestamp with time zone,
	"rejected_by" text,
	"rejected_at" timestamp with time zone,
	"rejection_text" text,
	CONSTRAINT "retry_intents_reason_text_length" CHECK (char_length(btrim("retry_intents"."reason_text")) BETWEEN 1 AND 2000),
	CONSTRAINT "retry_intents_approved_by_nonempty" CHECK (length(btrim("retry_intents"."approved_by")) > 0),
	CONSTRAINT "retry_intents_consumed_fields" CHECK (("retry_intents"."status" = 'CONSUMED') = ("retry_intents"."consumed_by" IS NOT NULL AND "retry_intents"."consumed_at" IS NOT NULL) AND ("retry_intents"."status" = 'CONSUMED' OR ("retry_intents"."consumed_by" IS NULL AND "retry_intents"."consumed_at" IS NULL))),
	CONSTRAINT "retry_intents_rejected_fields" CHECK (("retry_intents"."status" = 'REJECTED') = ("retry_intents"."rejected_by" IS NOT NULL AND "retry_intents"."rejected_at" IS NOT NULL AND "retry_intents"."rejection_text" IS NOT NULL) AND ("retry_intents"."status" = 'REJECTED' OR ("retry_intents"."rejected_by" IS NULL AND "retry_intents"."rejected_at" IS NULL AND "retry_intents"."rejection_text" IS NULL))),
	CONSTRAINT "retry_intents_rejection_text_length" CHECK ("retry_intents"."rejection_text" IS NULL OR char_length(btrim("retry_intents"."rejection_text")) BETWEEN 1 AND 2000)
);
--> statement-breakpoint
ALTER TABLE "regeneration_jobs" ADD CONSTRAINT "regeneration_jobs_retry_of_job_id_regeneration_jobs_id_fk" FOREIGN KEY ("retry_of_job_id") REFERENCES "public"."regeneration_jobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "regeneration_jobs" ADD CONSTRAINT "regeneration_jobs_retry_intent_id_retry_intents_id_fk" FOREIGN KEY ("retry_intent_id") REFERENCES "public"."retry_intents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "regeneration_outputs" ADD CONSTRAINT "regeneration_outputs_job_id_regeneration_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."regeneration_jobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "retry_intents" ADD CONSTRAINT "retry_intents_source_job_id_regeneration_jobs_id_fk" FOREIGN KEY ("source_job_id") REFERENCES "public"."regeneration_jobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_events_subject_idx" ON "audit_events" USING btree ("subject_id","id");--> statement-breakpoint
CREATE INDEX "audit_events_type_idx" ON "audit_events" USING btree ("type","id");--> statement-breakpoint
CREATE INDEX "regeneration_jobs_pending_idx" ON "regeneration_jobs" USING btree ("created_at","id") WHERE "regeneration_jobs"."status" = 'PENDING';--> statement-breakpoint
CREATE INDEX "regeneration_jobs_running_lease_idx" ON "regeneration_jobs" USING btree ("lease_expires_at") WHERE "regeneration_jobs"."status" = 'RUNNING';--> statement-breakpoint
CREATE INDEX "regeneration_jobs_status_created_idx" ON "regeneration_jobs" USING btree ("status","created_at","id");--> statement-breakpoint
CREATE INDEX "regeneration_jobs_generator_created_idx" ON "regeneration_jobs" USING btree ("generator","created_at","id");--> statement-breakpoint
CREATE INDEX "regeneration_jobs_created_by_created_idx" ON "regeneration_jobs" USING btree ("created_by","created_at","id");--> statement-breakpoint
CREATE INDEX "regeneration_jobs_created_idx" ON "regeneration_jobs" USING btree ("created_at","id");--> statement-breakpoint
CREATE UNIQUE INDEX "retry_intents_one_pending_per_job" ON "retry_intents" USING btree ("source_job_id") WHERE "retry_intents"."status" = 'PENDING';--> statement-breakpoint
CREATE INDEX "retry_intents_source_job_idx" ON "retry_intents" USING btree ("source_job_id","created_at");--> statement-breakpoint
CREATE INDEX "retry_intents_status_created_idx" ON "retry_intents" USING btree ("status","created_at","id");--> statement-breakpoint
CREATE INDEX "retry_intents_created_idx" ON "retry_intents" USING btree ("created_at","id");