// Start GOV.UK Frontend's components (error summary focus, password reveal, details, …).
import { initAll } from "/static/govuk/govuk-frontend.min.js";

initAll();
