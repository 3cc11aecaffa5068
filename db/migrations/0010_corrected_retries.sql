CREATE TYPE "public"."retry_intent_kind" AS ENUM('RETRY', 'SUPERSEDE');--> statement-breakpoint
ALTER TABLE "retry_batches" ADD COLUMN "kind" "retry_intent_kind" DEFAULT 'RETRY' NOT NULL;--> statement-breakpoint
ALTER TABLE "retry_intents" ADD COLUMN "kind" "retry_intent_kind" DEFAULT 'RETRY' NOT NULL;--> statement-breakpoint
ALTER TABLE "retry_intents" ADD COLUMN "input" jsonb;--> statement-breakpoint
ALTER TABLE "retry_batches" ADD CONSTRAINT "retry_batches_supersede_reason" CHECK ("retry_batches"."kind" = 'RETRY' OR "retry_batches"."reason_code" IN ('BAD_INPUT', 'IMPROVED_PROMPT', 'OTHER'));--> statement-breakpoint
ALTER TABLE "retry_intents" ADD CONSTRAINT "retry_intents_input_reason" CHECK ("retry_intents"."input" IS NULL OR "retry_intents"."reason_code" IN ('BAD_INPUT', 'IMPROVED_PROMPT', 'OTHER'));--> statement-breakpoint
ALTER TABLE "retry_intents" ADD CONSTRAINT "retry_intents_supersede_reason" CHECK ("retry_intents"."kind" = 'RETRY' OR "retry_intents"."reason_code" IN ('BAD_INPUT', 'IMPROVED_PROMPT', 'OTHER'));