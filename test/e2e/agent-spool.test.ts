import { spoolScenarios } from "../support/agent-spool.ts";

// 40 report processes keep this under a minute on a loaded machine; test/reliability runs the 200.
spoolScenarios(40);
