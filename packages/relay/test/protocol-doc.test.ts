// Holds docs/protocol.md §7 (relays) to the relay service's schemas: the
// actions table names each request's fields and each answer's as the schemas
// do, the failure codes are the ones the service answers, and every JSON line
// of the example exchange passes the schema of what it is.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { z } from 'zod';
import { AttachedSchema, CreatedSchema, DeletedSchema, RELAY_FAILURE_CODES, RelayRequestSchema } from '@tessera/relay';

const doc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');
const from = doc.indexOf('## 7. Relays');
const next = doc.indexOf('\n## ', from + 1);
const section = doc.slice(from, next === -1 ? undefined : next);

/** The `backticked` names in a table cell. */
const names = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

/** The rows of the markdown table whose first header cell is `first`, as cells. */
function table(first: string): string[][] {
  const start = section.indexOf(`| ${first} |`);
  expect(start, `a table headed "${first}" in §7`).to.be.greaterThan(-1);
  const rows = section.slice(start).split('\n');
  const end = rows.findIndex((line) => !line.startsWith('|'));
  return rows.slice(2, end).map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()));
}

const answers: Record<string, z.ZodObject> = { create: CreatedSchema, attach: AttachedSchema, delete: DeletedSchema };
const requestShapes = Object.fromEntries(RelayRequestSchema.options.map((o) => [o.shape.action.value, Object.keys(o.shape)]));

describe('docs/protocol.md §7 (relays) against the relay service’s schemas', () => {
  it('names every action, with the request fields and the answer fields of its schemas', () => {
    const rows = table('action');
    expect(rows.map((r) => names(r[0]!)[0])).to.have.members(Object.keys(requestShapes));
    for (const [action, , fields, answer] of rows) {
      const name = names(action!)[0]!;
      expect(names(fields!), `${name}'s fields`).to.have.members(requestShapes[name]!.filter((k) => k !== 'action' && k !== 'request_id'));
      expect(names(answer!), `${name}'s answer`).to.have.members(Object.keys(answers[name]!.shape));
    }
  });

  it('lists exactly the failure codes the service answers', () => {
    expect(table('code').map((r) => names(r[0]!)[0])).to.have.members([...RELAY_FAILURE_CODES]);
  });

  it('shows an exchange whose every request and answer passes the schemas', () => {
    const blocks = [...section.matchAll(/^```json\n([\s\S]*?)^```$/gm)].map((m) => m[1]!.trim().split('\n'));
    expect(blocks.length).to.be.at.least(1);
    for (const lines of blocks) {
      expect(lines.length % 2, 'requests and answers in pairs').to.equal(0);
      for (let i = 0; i < lines.length; i += 2) {
        const request = RelayRequestSchema.parse(JSON.parse(lines[i]!));
        const answer = JSON.parse(lines[i + 1]!) as Record<string, unknown>;
        expect(answer['request_id'], lines[i + 1]).to.equal(request.request_id);
        if (answer['result'] === 'success') answers[request.action]!.parse(answer);
        else {
          expect(answer['result']).to.equal('failure');
          expect(RELAY_FAILURE_CODES).to.include(answer['code']);
          expect(answer['message']).to.be.a('string');
        }
      }
    }
  });
});
