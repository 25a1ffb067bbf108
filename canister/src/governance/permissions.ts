// Who may act: the rules the canister's entry points share, each written once.
import { ANONYMOUS_PRINCIPAL, GovernanceError, type DelegateScope } from './types.ts';

export const isAnonymous = (principal: string): boolean => principal === ANONYMOUS_PRINCIPAL;

/** Every call that changes state needs an identity. */
export function refuseAnonymous(caller: string): void {
  if (isAnonymous(caller)) throw new GovernanceError('the anonymous principal cannot take part; call with an identity');
}

/** A delegation (or a grant of one) is over from its expiry time on; null never expires. */
export const delegationExpired = (scope: Pick<DelegateScope, 'expiresAtNs'>, nowNs: bigint): boolean =>
  scope.expiresAtNs !== null && nowNs >= scope.expiresAtNs;
