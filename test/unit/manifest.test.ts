/**
 * Issue #6: manifest.yml grants what the code really uses. Events the bot listens to, scopes its Web API calls need,
 * the /incident command and interactivity are read from src/ and compared with the manifest; a call or listener the
 * manifest lacks fails here, before an install fails in Slack.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';

const REPO = join(__dirname, '..', '..');

/**
 * Scopes each Web API method needs with a bot token (from each method's page on docs.slack.dev). A method the code
 * calls that is missing here fails the test: look it up and add it.
 */
const METHOD_SCOPES: Record<string, string[]> = {
  'auth.test': [],
  'chat.postMessage': ['chat:write'],
  'chat.update': ['chat:write'],
  'chat.postEphemeral': ['chat:write'],
  'chat.delete': ['chat:write'],
  'chat.getPermalink': [],
  'views.open': [],
  'views.update': [],
  'views.push': [],
  'files.uploadV2': ['files:write'],
  'files.getUploadURLExternal': ['files:write'],
  'files.completeUploadExternal': ['files:write'],
  'usergroups.users.list': ['usergroups:read'],
  'users.info': ['users:read'],
  'conversations.info': ['channels:read', 'groups:read'],
  'conversations.replies': ['channels:history', 'groups:history'],
  'reactions.add': ['reactions:write'],
};

/** Bot events each listener needs: a `message` listener gets channel messages in public and private channels. */
const EVENT_SUBSCRIPTIONS: Record<string, { events: string[]; scopes: string[] }> = {
  message: { events: ['message.channels', 'message.groups'], scopes: ['channels:history', 'groups:history'] },
  app_mention: { events: ['app_mention'], scopes: ['app_mentions:read'] },
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** The code with comments removed, so a method named in a doc comment does not count as a call. */
function code(path: string): string {
  return readFileSync(path, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

const sources = sourceFiles(join(REPO, 'src')).map((path) => ({ path: relative(REPO, path), text: code(path) }));

/** `client.chat.postMessage(` (also split over lines, also `this.deps.client.…`) → `chat.postMessage`, with where. */
function webApiCalls(): Map<string, string[]> {
  const calls = new Map<string, string[]>();
  for (const { path, text } of sources) {
    for (const m of text.matchAll(/\bclient\s*\.\s*((?:[a-zA-Z]+\s*\.\s*)+[a-zA-Z0-9]+)\s*\(/g)) {
      const method = m[1].replace(/\s+/g, '');
      if (method === 'apiCall') continue;
      calls.set(method, [...(calls.get(method) ?? []), path]);
    }
    for (const m of text.matchAll(/\.apiCall\(\s*'([a-zA-Z.]+)'/g)) calls.set(m[1], [...(calls.get(m[1]) ?? []), path]);
  }
  return calls;
}

/** Bolt listeners: `app.event('x'`, `app.message(`, `app.command('/x'`, `app.action(`, `app.view(`, `app.shortcut(`. */
function listeners(): { events: Set<string>; commands: Set<string>; interactive: string[] } {
  const events = new Set<string>();
  const commands = new Set<string>();
  const interactive: string[] = [];
  for (const { path, text } of sources) {
    for (const m of text.matchAll(/\bapp\.event\s*(?:<[^>]*>)?\(\s*'([a-z_]+)'/g)) events.add(m[1]);
    if (/\bapp\.message\s*\(/.test(text)) events.add('message');
    for (const m of text.matchAll(/\bapp\.command\s*(?:<[^>]*>)?\(\s*'(\/[a-z-]+)'/g)) commands.add(m[1]);
    if (/\bapp\.(action|view|shortcut|options)\s*(?:<[\s\S]*?>)?\(/.test(text)) interactive.push(path);
  }
  return { events, commands, interactive };
}

interface Manifest {
  features?: { slash_commands?: { command: string; url?: string }[] };
  oauth_config?: { scopes?: { bot?: string[] } };
  settings?: {
    event_subscriptions?: { request_url?: string; bot_events?: string[] };
    interactivity?: { is_enabled?: boolean; request_url?: string };
  };
}

const manifest = parse(readFileSync(join(REPO, 'manifest.yml'), 'utf8')) as Manifest;
const botScopes = new Set(manifest.oauth_config?.scopes?.bot ?? []);

describe('manifest.yml against the code', () => {
  const calls = webApiCalls();
  const found = listeners();

  it('finds the calls and listeners it checks (the scan itself works)', () => {
    expect([...calls.keys()]).toEqual(
      expect.arrayContaining([
        'chat.postMessage',
        'chat.update',
        'chat.postEphemeral',
        'views.open',
        'usergroups.users.list',
      ]),
    );
    expect(found.events).toContain('message');
    expect(found.commands).toContain('/incident');
    expect(found.interactive.length).toBeGreaterThan(0);
  });

  it('grants every scope the Web API calls need', () => {
    const unknown = [...calls.keys()].filter((m) => !(m in METHOD_SCOPES));
    expect(unknown).toEqual([]);
    const missing = [...calls.entries()].flatMap(([method, where]) =>
      METHOD_SCOPES[method]
        .filter((s) => !botScopes.has(s))
        .map((s) => `${s} (for ${method} in ${[...new Set(where)].join(', ')})`),
    );
    expect(missing).toEqual([]);
  });

  it('subscribes to every event the bot listens to, with its scopes', () => {
    const botEvents = new Set(manifest.settings?.event_subscriptions?.bot_events ?? []);
    for (const event of found.events) {
      const needs = EVENT_SUBSCRIPTIONS[event];
      expect(needs).toBeDefined();
      for (const e of needs.events) expect(botEvents).toContain(e);
      for (const s of needs.scopes) expect(botScopes).toContain(s);
    }
    expect(manifest.settings?.event_subscriptions?.request_url).toMatch(/^https:\/\/[^/]+\/slack\/events$/);
  });

  it('declares /incident at the Bolt endpoint, with the commands scope', () => {
    for (const command of found.commands) {
      const declared = manifest.features?.slash_commands?.find((c) => c.command === command);
      expect(declared).toBeDefined();
      expect(declared?.url).toMatch(/^https:\/\/[^/]+\/slack\/events$/);
    }
    expect(botScopes).toContain('commands');
  });

  it('turns interactivity on at the same endpoint (buttons and the confirmation modal)', () => {
    expect(manifest.settings?.interactivity).toMatchObject({ is_enabled: true });
    expect(manifest.settings?.interactivity?.request_url).toBe(manifest.settings?.event_subscriptions?.request_url);
  });
});
