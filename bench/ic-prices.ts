// The IC's published fees on a 13-node application subnet, as the benchmarks price their measurements.
// One table for every bench, so the attack bench and the cost table agree. Per executed instruction
// the conservative figure is used (sources give 0.4 to 1 cycle).
export const CYCLES_PER_INSTRUCTION = 1;
export const UPDATE_BASE = 5_000_000;
export const INGRESS_MESSAGE = 1_200_000;
export const INGRESS_BYTE = 2_000;
/** Storage, per GiB per second. */
export const GIB_SECOND = 127_000;
/** sign_with_ecdsa on key_1 (ic-cdk's SIGN_WITH_ECDSA_FEE). */
export const ECDSA_SIGN = 26_153_846_153;
/** 1 T cycles = 1 XDR. */
export const USD_PER_T = 1.35;
