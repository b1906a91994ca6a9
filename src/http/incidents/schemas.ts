/** Incidents are shown the same way by their routes and inside the review. */
export { IncidentSchema, incidentJson } from "../../domain/review.ts";
