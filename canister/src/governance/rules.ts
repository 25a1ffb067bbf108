// Voting arithmetic: when a proposal is decided, and how.
import { GovernanceError, type Rules, type Tally } from './types.ts';

const NS_PER_SECOND = 1_000_000_000n;
export const MIN_VOTING_PERIOD_NS = 60n * NS_PER_SECOND;
export const MAX_VOTING_PERIOD_NS = 366n * 24n * 3600n * NS_PER_SECOND;

export function rulesProblem(rules: Rules): string | null {
  if (rules.votingPeriodNs < MIN_VOTING_PERIOD_NS || rules.votingPeriodNs > MAX_VOTING_PERIOD_NS)
    return 'voting period must be between 1 minute and 366 days';
  if (!Number.isInteger(rules.quorumBps) || rules.quorumBps < 0 || rules.quorumBps > MAX_QUORUM_BPS)
    return `quorum must be 0..${MAX_QUORUM_BPS} basis points of the total voting power (a quorum of everyone is blocked by one lost key)`;
  if (!Number.isInteger(rules.thresholdBps) || rules.thresholdBps < MIN_THRESHOLD_BPS || rules.thresholdBps > MAX_THRESHOLD_BPS)
    return `threshold must be ${MIN_THRESHOLD_BPS}..${MAX_THRESHOLD_BPS} basis points (yes must be strictly above it: a majority at least, at most two thirds)`;
  return null;
}

/** The bounds README.md justifies: yes must beat a majority of yes+no, and need not beat more than two thirds. */
export const MIN_THRESHOLD_BPS = 5_000;
export const MAX_THRESHOLD_BPS = 6_667;
export const MAX_QUORUM_BPS = 9_000;

export type Membership = { count: number; totalPower: bigint; maxPower: bigint };

/**
 * Why `rules` do not suit `membership`, or null. With three or more members: no single member
 * reaches the quorum alone, and the members without the largest one still can (one lost or
 * unwilling key never blocks every proposal). One or two members cannot satisfy both; there only
 * the fixed bounds apply.
 */
export function rulesMembershipProblem(rules: Rules, m: Membership): string | null {
  if (m.count < 3) return null;
  const q = BigInt(rules.quorumBps);
  if (m.maxPower * 10_000n >= q * m.totalPower)
    return `the largest member (${m.maxPower} of ${m.totalPower} power) would reach the quorum of ${rules.quorumBps} bps alone`;
  if (q * m.totalPower > (m.totalPower - m.maxPower) * 10_000n)
    return `without the largest member (${m.maxPower} of ${m.totalPower} power) the quorum of ${rules.quorumBps} bps could not be reached`;
  return null;
}

export function ensureRules(rules: Rules): void {
  const problem = rulesProblem(rules);
  if (problem) throw new GovernanceError(problem);
}

const quorumMet = (voted: bigint, total: bigint, rules: Rules): boolean =>
  voted * 10_000n >= BigInt(rules.quorumBps) * total;

const thresholdMet = (yes: bigint, no: bigint, rules: Rules): boolean =>
  yes * 10_000n > BigInt(rules.thresholdBps) * (yes + no);

export type Decision = 'adopted' | 'rejected' | 'expired';

/**
 * Outcome at the deadline (`final`), or early once the power that has not voted yet can no longer
 * change it. Early decisions treat the votes already cast as final: the proposal closes at that
 * moment, so they cannot be changed any more.
 * - adopted: quorum reached and yes strictly above the threshold share of yes+no;
 * - expired: the deadline passed without quorum;
 * - rejected: quorum reached (or the outcome already certain) and the threshold not met.
 */
export function decide(tally: Tally, totalPower: bigint, rules: Rules, final: boolean): Decision | null {
  const voted = tally.yes + tally.no + tally.abstain;
  if (final) {
    if (!quorumMet(voted, totalPower, rules)) return 'expired';
    return thresholdMet(tally.yes, tally.no, rules) ? 'adopted' : 'rejected';
  }
  const remaining = totalPower - voted;
  // Worst case for adoption: everyone left votes no (quorum can only grow, so it must hold already).
  if (quorumMet(voted, totalPower, rules) && thresholdMet(tally.yes, tally.no + remaining, rules)) return 'adopted';
  // Best case for adoption: everyone left votes yes (which also reaches any quorum).
  if (!thresholdMet(tally.yes + remaining, tally.no, rules)) return 'rejected';
  return null;
}
