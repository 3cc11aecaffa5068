CREATE TABLE "generator_versions" (
	"generator" text NOT NULL,
	"version" text NOT NULL,
	"input_schema" jsonb NOT NULL,
	"schema_sha256" text NOT NULL,
	"published_by" text NOT NULL,
	"published_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "generator_versions_generator_version_pk" PRIMARY KEY("generator","version"),
	CONSTRAINT "generator_versions_version_shape" CHECK ("generator_versions"."version" ~ '^[!-~]{1,100}$'),
	CONSTRAINT "generator_versions_schema_shape" CHECK (jsonb_typeof("generator_versions"."input_schema") IN ('object', 'boolean'))
);
--> statement-breakpoint
CREATE TABLE "generators" (
	"name" text PRIMARY KEY NOT NULL,
	"current_version" text NOT NULL,
	"paused_at" timestamp with time zone,
	"paused_by" text,
	"pause_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "generators_name_shape" CHECK ("generators"."name" ~ '^[a-z][a-z0-9_.-]{0,63}$'),
	CONSTRAINT "generators_paused_fields" CHECK (("generators"."paused_at" IS NULL) = ("generators"."paused_by" IS NULL) AND ("generators"."paused_at" IS NULL) = ("generators"."pause_reason" IS NULL)),
	CONSTRAINT "generators_pause_reason_length" CHECK ("generators"."pause_reason" IS NULL OR char_length(btrim("generators"."pause_reason")) BETWEEN 1 AND 2000)
);
--> statement-breakpoint
ALTER TABLE "generators" ADD CONSTRAINT "generators_current_version_fkey" FOREIGN KEY ("name","current_version") REFERENCES "public"."generator_versions"("generator","version") ON DELETE no action ON UPDATE no action;--> statement-breakpoint

-- The catalog is read by the application role and written only through the functions that
-- audit each change (regent_publish_generators, regent_pause_generator,
-- regent_resume_generator; db/functions/), which run with their owner's rights.
GRANT SELECT ON generator_versions, generators TO regent_app;
