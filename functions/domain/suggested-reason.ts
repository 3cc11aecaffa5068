import type { JobError, RetryReasonCode } from "../../db/schema";

/**
 * The reason code a failure suggests to the admin deciding about it: waiting helps with
 * timeouts and a service's own errors, fixing the input with invalid input, the operators
 * with leases, connections and configuration. A suggestion only; the admin decides.
 * Undefined where the error says nothing about its cause.
 */
export function suggestReasonCode(error: JobError | null | undefined): RetryReasonCode | undefined {
  const code = error?.code;
  if (!code) return undefined;
  if (code === "GENERATOR_TIMEOUT" || code === "HTTP_TIMEOUT" || /^HTTP_STATUS_5\d\d$/.test(code)) {
    return "TRANSIENT_FAILURE";
  }
  if (code === "INVALID_INPUT") return "BAD_INPUT";
  if (
    code === "LEASE_EXPIRED" ||
    code === "HTTP_ERROR" ||
    code === "HTTP_NOT_CONFIGURED" ||
    code === "UNKNOWN_GENERATOR" ||
    code === "OUTPUT_REJECTED"
  ) {
    return "INFRA_ERROR";
  }
  return undefined;
}
