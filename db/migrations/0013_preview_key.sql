CREATE TABLE "regent_secrets" (
	"singleton" boolean PRIMARY KEY DEFAULT true NOT NULL,
	"preview_key" text DEFAULT encode(sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')), 'hex') NOT NULL,
	CONSTRAINT "regent_secrets_singleton" CHECK ("regent_secrets"."singleton")
);
--> statement-breakpoint

-- One row, its key drawn here; the application's role gets no right on the table: tokens are
-- made and checked by regent_preview_token alone.
INSERT INTO regent_secrets DEFAULT VALUES;
