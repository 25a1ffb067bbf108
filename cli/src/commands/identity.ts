// `canopy identity …`: the local identities (keys) the CLI calls with.
import { readFileSync } from 'node:fs';
import type { Command } from '../cli.ts';
import { CliError } from '../errors.ts';
import { table } from '../format.ts';

export const identityCommands: Command[] = [
  {
    name: 'identity new',
    summary: 'create an identity (secp256k1 key, stored under the config directory)',
    args: '<name>',
    options: { use: { type: 'boolean', desc: 'make it the default' } },
    examples: ['canopy identity new board-1', 'canopy identity new ci --use'],
    async run(ctx) {
      const name = ctx.positional(0, 'name');
      ctx.noMorePositionals(1);
      const identity = ctx.store.create(name);
      if (ctx.values.use) ctx.store.setDefault(name);
      const principal = identity.getPrincipal().toText();
      ctx.emit({ name, principal, default: ctx.store.defaultName() === name }, `created identity ${name}: ${principal}${ctx.store.defaultName() === name ? ' (default)' : ''}`);
    },
  },
  {
    name: 'identity import',
    summary: 'import a PEM private key (secp256k1 or Ed25519, e.g. from `dfx identity export`)',
    args: '<name> <pem-file>',
    options: { use: { type: 'boolean', desc: 'make it the default' } },
    examples: ['dfx identity export alice > alice.pem && canopy identity import alice alice.pem --use'],
    async run(ctx) {
      const name = ctx.positional(0, 'name');
      const file = ctx.positional(1, 'PEM file');
      ctx.noMorePositionals(2);
      let pem: string;
      try {
        pem = readFileSync(file, 'utf8');
      } catch {
        throw new CliError(`cannot read ${file}`);
      }
      const identity = ctx.store.import(name, pem);
      if (ctx.values.use) ctx.store.setDefault(name);
      const principal = identity.getPrincipal().toText();
      ctx.emit({ name, principal, default: ctx.store.defaultName() === name }, `imported identity ${name}: ${principal}`);
    },
  },
  {
    name: 'identity list',
    summary: 'list identities (* marks the default)',
    examples: ['canopy identity list', 'canopy identity list --json'],
    async run(ctx) {
      ctx.noMorePositionals(0);
      const def = ctx.store.defaultName();
      const list = ctx.store.list().map((name) => ({ name, principal: ctx.store.load(name).getPrincipal().toText(), default: name === def }));
      ctx.emit(list, () => (list.length === 0 ? 'no identities: run `canopy identity new <name>`' : table(list.map((i) => [`${i.default ? '*' : ' '} ${i.name}`, i.principal]))));
    },
  },
  {
    name: 'identity use',
    summary: 'make an identity the default',
    args: '<name>',
    examples: ['canopy identity use board-1'],
    async run(ctx) {
      const name = ctx.positional(0, 'name');
      ctx.noMorePositionals(1);
      ctx.store.setDefault(name);
      ctx.emit({ name }, `default identity is now ${name}`);
    },
  },
  {
    name: 'identity whoami',
    summary: 'the identity in use and its principal (give the principal to members to be added)',
    examples: ['canopy identity whoami', 'canopy identity whoami --identity board-2 --json'],
    async run(ctx) {
      ctx.noMorePositionals(0);
      const { name, identity } = ctx.conn.identity(true)!;
      const principal = identity.getPrincipal().toText();
      ctx.emit({ name, principal }, `${name}: ${principal}`);
    },
  },
];
