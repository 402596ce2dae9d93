import { chmod, chown, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureSlotAccounts, slotAccounts, slotUserConfig } from '../../agent/condor/slot-users.ts';
import { AgentError } from '../../agent/errors.ts';

// The image's account files, trimmed: what ensureSlotAccounts finds in a fresh container.
const imagePasswd = [
  'root:x:0:0:root:/root:/bin/bash',
  'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
  'condor:x:101:101::/var/lib/condor:/usr/sbin/nologin',
  'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
];
const imageGroup = ['root:x:0:', 'daemon:x:1:', 'shadow:x:42:', 'condor:x:101:', 'nogroup:x:65534:'];
const imageShadow = ['root:*:19000:0:99999:7:::', 'condor:!:19000::::::'];

/** passwd, group and shadow in a directory of their own, as the image has them (shadow 0640). */
async function accountFiles(passwd = imagePasswd, group = imageGroup, shadow = imageShadow) {
  const dir = await mkdtemp(join(tmpdir(), 'wn-accounts-'));
  const files = { passwd: join(dir, 'passwd'), group: join(dir, 'group'), shadow: join(dir, 'shadow') };
  await writeFile(files.passwd, `${passwd.join('\n')}\n`, { mode: 0o644 });
  await writeFile(files.group, `${group.join('\n')}\n`, { mode: 0o644 });
  await writeFile(files.shadow, `${shadow.join('\n')}\n`, { mode: 0o640 });
  await chmod(files.shadow, 0o640); // the umask must not decide the fixture's mode
  return { dir, files };
}

const lines = async (path: string): Promise<string[]> => (await readFile(path, 'utf8')).split('\n').filter(Boolean);
const named = (all: string[], name: string): string[] => all.filter((l) => l.split(':')[0] === name);

describe('slotAccounts', () => {
  it('one account per dynamic slot: wnslotN, uid 6000+N, for slot1_N', () => {
    expect(slotAccounts(3)).toEqual([
      { name: 'wnslot1', uid: 6001, slot: 'slot1_1' },
      { name: 'wnslot2', uid: 6002, slot: 'slot1_2' },
      { name: 'wnslot3', uid: 6003, slot: 'slot1_3' },
    ]);
    expect(slotAccounts(0)).toEqual([]);
  });
});

describe('slotUserConfig', () => {
  it('maps each dynamic slot to its account, makes them dedicated and gives every job at least one CPU', () => {
    const config = slotUserConfig(slotAccounts(2));
    expect(config).toContain('SLOT1_1_USER = wnslot1');
    expect(config).toContain('SLOT1_2_USER = wnslot2');
    expect(config).toContain('DEDICATED_EXECUTE_ACCOUNT_REGEXP = wnslot[0-9]+');
    expect(config).toContain('STARTER_ALLOW_RUNAS_OWNER = False');
    expect(config).toContain('MODIFY_REQUEST_EXPR_REQUESTCPUS = max({1, quantize(RequestCpus, {1})})');
    // The regexp HTCondor applies must cover every account the agent creates, and nothing of the image's.
    const regexp = new RegExp(`^(?:${config.find((l) => l.startsWith('DEDICATED_'))?.split(' = ')[1] ?? 'missing'})$`);
    expect(slotAccounts(12).every((a) => regexp.test(a.name))).toBe(true);
    expect(['condor', 'nobody', 'root'].some((name) => regexp.test(name))).toBe(false);
  });
});

describe('ensureSlotAccounts', () => {
  it('creates the missing accounts, each with its own group, no usable password, a login shell for ssh_to_job', async () => {
    const { files } = await accountFiles();
    const result = await ensureSlotAccounts(2, files);
    expect(result.created).toBe(2);
    expect(result.accounts.map((a) => a.name)).toEqual(['wnslot1', 'wnslot2']);

    const passwd = await lines(files.passwd);
    expect(passwd.slice(0, imagePasswd.length)).toEqual(imagePasswd); // the image's accounts untouched
    expect(named(passwd, 'wnslot1')).toEqual(['wnslot1:x:6001:6001:wn-agent slot1_1:/:/bin/bash']);
    expect(named(passwd, 'wnslot2')).toEqual(['wnslot2:x:6002:6002:wn-agent slot1_2:/:/bin/bash']);
    const group = await lines(files.group);
    expect(named(group, 'wnslot1')).toEqual(['wnslot1:x:6001:']);
    expect(named(group, 'wnslot2')).toEqual(['wnslot2:x:6002:']);
    const shadow = await lines(files.shadow);
    // '*', not '!': no password matches, but the account is not locked (sshd refuses locked accounts).
    expect(named(shadow, 'wnslot1')).toEqual(['wnslot1:*:20000:0:99999:7:::']);
    expect(named(shadow, 'wnslot2')).toEqual(['wnslot2:*:20000:0:99999:7:::']);
  });

  it('is idempotent: a restarted container finds its accounts and writes nothing', async () => {
    const { files } = await accountFiles();
    await ensureSlotAccounts(3, files);
    const before = await Promise.all([files.passwd, files.group, files.shadow].map((f) => readFile(f, 'utf8')));
    const again = await ensureSlotAccounts(3, files);
    expect(again.created).toBe(0);
    expect(again.accounts).toHaveLength(3);
    const after = await Promise.all([files.passwd, files.group, files.shadow].map((f) => readFile(f, 'utf8')));
    expect(after).toEqual(before);
    expect(named(await lines(files.passwd), 'wnslot3')).toHaveLength(1);
  });

  it('adds only the accounts a larger slot needs', async () => {
    const { files } = await accountFiles();
    await ensureSlotAccounts(2, files);
    expect((await ensureSlotAccounts(4, files)).created).toBe(2);
    const passwd = await lines(files.passwd);
    expect(passwd.filter((l) => l.startsWith('wnslot')).map((l) => l.split(':')[0])).toEqual(['wnslot1', 'wnslot2', 'wnslot3', 'wnslot4']);
  });

  it("keeps each file's mode (shadow stays 0640) and leaves no temporary file behind", async () => {
    const { dir, files } = await accountFiles();
    await ensureSlotAccounts(1, files);
    expect((await stat(files.shadow)).mode & 0o7777).toBe(0o640);
    expect((await stat(files.passwd)).mode & 0o7777).toBe(0o644);
    expect((await stat(files.group)).mode & 0o7777).toBe(0o644);
    expect((await readdir(dir)).sort()).toEqual(['group', 'passwd', 'shadow']);
  });

  it.runIf(process.getuid?.() === 0)("keeps shadow's owner and group (root:shadow)", async () => {
    const { files } = await accountFiles();
    await chown(files.shadow, 0, 42);
    await ensureSlotAccounts(1, files);
    const info = await stat(files.shadow);
    expect([info.uid, info.gid]).toEqual([0, 42]);
  });

  it('appends on a line of its own when a file does not end in a newline', async () => {
    const { files } = await accountFiles();
    await writeFile(files.passwd, imagePasswd.join('\n')); // no final newline
    await ensureSlotAccounts(1, files);
    expect(await lines(files.passwd)).toEqual([...imagePasswd, 'wnslot1:x:6001:6001:wn-agent slot1_1:/:/bin/bash']);
  });

  it('refuses, changing nothing, when uid 6001 belongs to another account of the image', async () => {
    const { files } = await accountFiles([...imagePasswd, 'builder:x:6001:6001::/home/builder:/bin/sh']);
    const before = await readFile(files.passwd, 'utf8');
    const error = await ensureSlotAccounts(2, files).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).code).toBe('WN_ERR_CONFIG');
    expect((error as AgentError).message).toContain('wnslot1 (uid and gid 6001)');
    expect((error as AgentError).message).toContain('builder');
    expect(await readFile(files.passwd, 'utf8')).toBe(before);
    expect(named(await lines(files.group), 'wnslot1')).toEqual([]);
    expect(named(await lines(files.shadow), 'wnslot1')).toEqual([]);
  });

  it('refuses when an account of that name exists with another uid', async () => {
    const { files } = await accountFiles([...imagePasswd, 'wnslot2:x:1500:1500::/:/bin/sh']);
    const error = await ensureSlotAccounts(2, files).catch((e: unknown) => e);
    expect((error as AgentError).code).toBe('WN_ERR_CONFIG');
    expect((error as AgentError).message).toContain('wnslot2 (uid and gid 6002)');
    expect(named(await lines(files.passwd), 'wnslot1')).toEqual([]); // nothing written for the other slots either
  });

  it('refuses when only a group already has the name or the id', async () => {
    const byGid = await accountFiles(imagePasswd, [...imageGroup, 'docker:x:6001:']);
    await expect(ensureSlotAccounts(1, byGid.files)).rejects.toMatchObject({ code: 'WN_ERR_CONFIG' });
    const byName = await accountFiles(imagePasswd, [...imageGroup, 'wnslot1:x:999:']);
    await expect(ensureSlotAccounts(1, byName.files)).rejects.toMatchObject({ code: 'WN_ERR_CONFIG' });
  });

  it('finishes what a start that stopped between the group and passwd files began', async () => {
    const { files } = await accountFiles(imagePasswd, [...imageGroup, 'wnslot1:x:6001:']);
    expect((await ensureSlotAccounts(1, files)).created).toBe(1);
    expect(named(await lines(files.group), 'wnslot1')).toEqual(['wnslot1:x:6001:']);
    expect(named(await lines(files.passwd), 'wnslot1')).toEqual(['wnslot1:x:6001:6001:wn-agent slot1_1:/:/bin/bash']);
  });

  it('gives an existing account of its own a shadow entry it lacks, and makes no shadow file where the image has none', async () => {
    const { files } = await accountFiles([...imagePasswd, 'wnslot1:x:6001:6001::/:/bin/bash'], [...imageGroup, 'wnslot1:x:6001:']);
    await ensureSlotAccounts(1, files);
    expect(named(await lines(files.shadow), 'wnslot1')).toEqual(['wnslot1:*:20000:0:99999:7:::']);
    const bare = await accountFiles();
    const noShadow = { ...bare.files, shadow: join(bare.dir, 'no-shadow') };
    await ensureSlotAccounts(1, noShadow);
    expect(await readdir(bare.dir)).not.toContain('no-shadow');
  });
});
