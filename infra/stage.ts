/** The configuration of the stage SST is deploying, read once for every component. */
import { readStageConfig } from "./config";

export const stage = readStageConfig($app.stage, process.env);

for (const warning of stage.warnings) console.warn(`warning: ${warning}`);
