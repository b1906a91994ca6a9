import { spoolScenarios } from "../support/agent-spool.ts";

// The figure: 200 events reported while the server is stopped, all delivered once it is back.
spoolScenarios(200);
