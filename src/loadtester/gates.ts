/**
 * Flagger's manual gates, kept by the load tester because Flagger tutorials point
 * `confirm-rollout`, `confirm-promotion` and `rollback` hooks at it: `/gate/approve` always
 * says yes, `/gate/halt` always no; `/gate/check` says yes once `/gate/open` was called for
 * the canary (closed again by `/gate/close`); `/rollback/check`, `/rollback/open` and
 * `/rollback/close` do the same for the rollback hook. Gates are in memory: a restart
 * closes them all, which holds a run rather than letting it through.
 */
export class Gates {
  private readonly open = new Set<string>();

  isOpen(key: string): boolean {
    return this.open.has(key);
  }

  set(key: string, open: boolean): void {
    if (open) this.open.add(key);
    else this.open.delete(key);
  }
}

export type GateAction = { kind: "fixed"; allow: boolean } | { kind: "check"; gate: "gate" | "rollback" } | { kind: "set"; gate: "gate" | "rollback"; open: boolean };

export const GATE_ROUTES: Record<string, GateAction> = {
  "/gate/approve": { kind: "fixed", allow: true },
  "/gate/halt": { kind: "fixed", allow: false },
  "/gate/check": { kind: "check", gate: "gate" },
  "/gate/open": { kind: "set", gate: "gate", open: true },
  "/gate/close": { kind: "set", gate: "gate", open: false },
  "/rollback/check": { kind: "check", gate: "rollback" },
  "/rollback/open": { kind: "set", gate: "rollback", open: true },
  "/rollback/close": { kind: "set", gate: "rollback", open: false },
};
