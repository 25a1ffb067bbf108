// Canopy's side of the steward's peer contract is written in canister/src/api/interface.ts (the
// canister may not import steward/); these checks keep it identical to steward/src/interface.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IDL } from '@dfinity/candid';
import { HealthReport, methods, StewardReportArgs, StewardUpgradeRequest, StewardUpgradeView, UpgradeOutcome } from '../../canister/src/api/interface.ts';
import { HealthReportIdl, methods as S, OutcomeIdl, peerMethods, ReportArgsIdl, UpgradeRequestIdl, UpgradeViewIdl } from '../../steward/src/interface.ts';

const show = (t: IDL.Type) => t.display();

describe("Canopy's copy of the steward's peer contract", () => {
  it('the outcome, report, health report and upgrade request are the same Candid types', () => {
    assert.equal(show(UpgradeOutcome), show(OutcomeIdl));
    assert.equal(show(StewardReportArgs), show(ReportArgsIdl));
    assert.equal(show(HealthReport), show(HealthReportIdl));
    assert.equal(show(StewardUpgradeRequest), show(UpgradeRequestIdl));
    assert.equal(show(StewardUpgradeRequest), show(S.upgrade_canopy.args[0]!));
  });

  it('Canopy exposes the peer methods with the arguments the steward sends', () => {
    assert.deepEqual(methods.health_check.args, peerMethods.health_check.args);
    assert.equal(show(methods.health_check.ret), show(peerMethods.health_check.ret));
    assert.deepEqual(methods.steward_report.args.map(show), peerMethods.steward_report.args.map(show));
  });

  it("the view Canopy reads is a part of the steward's UpgradeView with the same field types", () => {
    const full = new Map((UpgradeViewIdl as IDL.RecordClass)._fields.map(([k, t]) => [k, show(t)]));
    for (const [k, t] of (StewardUpgradeView as unknown as IDL.RecordClass)._fields) assert.equal(show(t), full.get(k), k);
    // a reply encoded with the steward's full type decodes with Canopy's part of it
    const view = {
      proposal_id: 1n, wasm_hash: new Uint8Array(32), phase: { done: null }, outcome: [{ ok: { module_hash: new Uint8Array([1, 2]) } }],
      reported: true, report_attempts: 1, snapshot_id: [], last_error: [], started_at_ns: 1n, updated_at_ns: 2n,
    };
    const [decoded] = IDL.decode([StewardUpgradeView], IDL.encode([UpgradeViewIdl], [view])) as unknown as [{ outcome: [{ ok: { module_hash: Uint8Array } }] }];
    assert.deepEqual([...decoded.outcome[0].ok.module_hash], [1, 2]);
  });
});
