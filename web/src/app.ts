// Shared state of the running app: the session, the account's status, and what the signed-in
// principal may do (member power, delegation). Views read it; only this module changes it.
import { errorLine } from '../../cli/src/errors.ts';
import type { CanopyActor, DelegateViewC, Result, StatusC } from './canister.ts';
import type { Session } from './session.ts';
import { describeRepo, getRecord } from './xrpc.ts';
import type { Author } from './post-view.ts';

export type Me = { principal: string; power: bigint | null; delegate: DelegateViewC | null };

export class App {
  status!: StatusC;
  author!: Author;
  me: Me | null = null;
  private listeners = new Set<() => void>();

  constructor(readonly session: Session) {}

  async load(): Promise<void> {
    const actor = await this.session.actor();
    this.status = await actor.get_status();
    this.author = await loadAuthor(this.status.did, this.status.handle);
    await this.refreshMe();
  }

  /** Member power and delegation of the signed-in principal (null when signed out). */
  async refreshMe(): Promise<void> {
    const current = this.session.current;
    if (!current) {
      this.me = null;
    } else {
      const actor = await this.session.actor();
      const [members, delegates] = await Promise.all([allMembers(actor), actor.list_delegates()]);
      this.me = {
        principal: current.principal,
        power: members.find((m) => m.principal === current.principal)?.power ?? null,
        delegate: delegates.find((d) => d.principal === current.principal) ?? null,
      };
    }
    for (const l of this.listeners) l();
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** One line for any failure: the canister's reason as the CLI prints it. */
  explain(err: unknown): string {
    return errorLine(err, location.origin);
  }
}

export type MemberRow = Result<'list_members'>['members'][number];

export async function allMembers(actor: CanopyActor): Promise<MemberRow[]> {
  const out: MemberRow[] = [];
  let after: [] | [string] = [];
  for (let page = 0; page < 50; page++) {
    const res: Result<'list_members'> = await actor.list_members({ after, limit: [200] });
    out.push(...res.members);
    if (res.next.length === 0) break;
    after = res.next;
  }
  return out;
}

export async function loadAuthor(did: string, handle: string): Promise<Author> {
  const author: Author = { did, handle };
  try {
    const profile = await getRecord<{ displayName?: string; description?: string; avatar?: { ref: { $link: string } } }>(did, 'app.bsky.actor.profile', 'self');
    author.displayName = profile.value.displayName;
    author.avatarCid = profile.value.avatar?.ref.$link;
  } catch {
    // no profile record yet
  }
  try {
    author.handle = (await describeRepo(did)).handle;
  } catch {
    // keep the canister's handle
  }
  return author;
}
