import { chmod, chown, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { AgentError } from '../errors.ts';

/**
 * One local account per slot, as HTCondor's own execute image configures them: the jobs of dynamic slot slot1_N run
 * as wnslotN (SLOT1_N_USER), so no job can read, list or change another job's scratch directory, which HTCondor makes
 * 0700 for its user. HTCondor reuses the lowest free dynamic slot number, and every job takes at least one CPU
 * (MODIFY_REQUEST_EXPR_REQUESTCPUS), so a partitionable slot of N CPUs never has more than N dynamic slots at once:
 * N accounts cover every slot it can carve. Each account has a group of its own and no password; its shell is
 * bash, for condor_ssh_to_job (sshd runs the user's login shell).
 */
export const slotUserPrefix = 'wnslot';
/** wnslot1 is uid and gid 6001: below Debian's dynamic system range, above the image's own accounts. */
export const slotUidBase = 6000;

export interface SlotAccount {
  name: string;
  uid: number;
  /** The dynamic slot whose jobs run as this account. */
  slot: string;
}

export const slotAccounts = (count: number): SlotAccount[] =>
  Array.from({ length: count }, (_, i) => ({ name: `${slotUserPrefix}${i + 1}`, uid: slotUidBase + i + 1, slot: `slot1_${i + 1}` }));

/** HTCondor's configuration for those accounts. */
export function slotUserConfig(accounts: readonly SlotAccount[]): string[] {
  return [
    ...accounts.map((a) => `${a.slot.toUpperCase()}_USER = ${a.name}`),
    // Dedicated: HTCondor may track and kill a job's processes by its login, and never runs two jobs as one account.
    `DEDICATED_EXECUTE_ACCOUNT_REGEXP = ${slotUserPrefix}[0-9]+`,
    // Jobs never run as their submitter's own uid here (the container has no such account anyway).
    'STARTER_ALLOW_RUNAS_OWNER = False',
    // At least one CPU per job, so that the dynamic slots (and so the accounts needed) never outnumber the CPUs.
    'MODIFY_REQUEST_EXPR_REQUESTCPUS = max({1, quantize(RequestCpus, {1})})',
  ];
}

interface AccountFiles {
  passwd: string;
  group: string;
  shadow: string;
}

const systemFiles: AccountFiles = { passwd: '/etc/passwd', group: '/etc/group', shadow: '/etc/shadow' };

const entries = (text: string): string[][] =>
  text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'));

/** Appends lines to an account file in one rename, keeping its mode and owner (shadow is not world-readable). */
async function append(path: string, lines: string[]): Promise<void> {
  if (lines.length === 0) return;
  const before = await readFile(path, 'utf8').catch(() => '');
  const info = await stat(path).catch(() => undefined);
  const temporary = `${path}.wn-agent-${process.pid}`;
  await writeFile(temporary, `${before}${before === '' || before.endsWith('\n') ? '' : '\n'}${lines.join('\n')}\n`, { mode: 0o600 });
  if (info) {
    await chown(temporary, info.uid, info.gid);
    await chmod(temporary, info.mode & 0o7777);
  } else await chmod(temporary, 0o644);
  await rename(temporary, path);
}

/**
 * Creates the slot accounts that are missing (a restarted container keeps the ones it made). An account name or id
 * already taken by something else is a configuration error: two slots sharing a uid is what this exists to prevent.
 */
export async function ensureSlotAccounts(
  count: number,
  files: AccountFiles = systemFiles,
): Promise<{ created: number; accounts: SlotAccount[] }> {
  const accounts = slotAccounts(count);
  const passwd = entries(await readFile(files.passwd, 'utf8'));
  const groups = entries(await readFile(files.group, 'utf8').catch(() => ''));
  const shadow = entries(await readFile(files.shadow, 'utf8').catch(() => ''));
  const missing: SlotAccount[] = [];
  // An entry of this very account (passwd and group both hold the id in their third field).
  const ours = (entry: string[], a: SlotAccount): boolean => entry[0] === a.name && entry[2] === String(a.uid);
  for (const account of accounts) {
    const byName = passwd.find((e) => e[0] === account.name);
    const byUid = passwd.find((e) => e[2] === String(account.uid));
    // A group of ours without its account: an earlier start stopped between the two files.
    const group = groups.find((e) => e[0] === account.name || e[2] === String(account.uid));
    if (byName && ours(byName, account) && (group === undefined || ours(group, account))) continue;
    const clash = [byName, byUid].find((e) => e !== undefined && !ours(e, account));
    const groupClash = group !== undefined && !ours(group, account);
    if (clash || groupClash)
      throw new AgentError(
        'WN_ERR_CONFIG',
        `slot account ${account.name} (uid and gid ${account.uid}) clashes with ` +
          (clash ? `the account ${clash[0]} in ${files.passwd}` : `the group ${group?.[0]} in ${files.group}`) +
          `: jobs of two slots would share an id; remove it from the image`,
      );
    missing.push(account);
  }
  await append(
    files.group,
    missing.filter((a) => !groups.some((e) => ours(e, a))).map((a) => `${a.name}:x:${a.uid}:`),
  );
  await append(
    files.passwd,
    missing.filter((a) => !passwd.some((e) => ours(e, a))).map((a) => `${a.name}:x:${a.uid}:${a.uid}:wn-agent ${a.slot}:/:/bin/bash`),
  );
  // '*': no password can ever match, yet the account is not "locked" (sshd refuses locked accounts, ssh_to_job needs
  // it). Only where the image has a shadow file at all.
  if (
    await stat(files.shadow).then(
      () => true,
      () => false,
    )
  )
    await append(
      files.shadow,
      accounts.filter((a) => !shadow.some((e) => e[0] === a.name)).map((a) => `${a.name}:*:20000:0:99999:7:::`),
    );
  return { created: missing.length, accounts };
}
