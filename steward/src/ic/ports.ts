// The steward's ports on the IC: the management canister (for Canopy, of which the steward is the
// only controller; ic/management-calls.ts, shared with Canopy), Canopy's peer methods, the clock and
// timers, all through Azle.
import { call, setTimer, time } from 'azle';
import { peerMethods } from '../interface.ts';
import type { PeerPort, Ports } from '../upgrades.ts';
import { icManagement } from '../../../canister/src/ic/management-calls.ts';

const peer: PeerPort = {
  healthCheck: (canister) =>
    call<[], { ok: boolean; detail: string }>(canister, 'health_check', {
      paramIdlTypes: peerMethods.health_check.args,
      returnIdlType: peerMethods.health_check.ret,
      args: [],
    }),
  async report(canister, a) {
    await call(canister, 'steward_report', { paramIdlTypes: peerMethods.steward_report.args, args: [a] });
  },
};

export const icPorts: Ports = {
  mgmt: icManagement,
  peer,
  nowNs: () => time(),
  schedule(delaySeconds, job) {
    setTimer(delaySeconds, job);
  },
};
