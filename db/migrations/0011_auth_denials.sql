CREATE TABLE "auth_denials" (
	"hour" timestamp with time zone NOT NULL,
	"actor" text NOT NULL,
	"route" text NOT NULL,
	"count" integer DEFAULT 1 NOT NULL,
	"last_request_id" text,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "auth_denials_hour_actor_route_pk" PRIMARY KEY("hour","actor","route")
);
--> statement-breakpoint

-- The application counts denials; pruning them is regent_prune_auth_refusals's, as for the
-- anonymous counts.
GRANT SELECT, INSERT, UPDATE ON auth_denials TO regent_app;
