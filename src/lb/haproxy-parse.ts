// `show servers state` is a space-separated table with no library to read it: parsed here by its header line
// (HAProxy management guide 9.3, "show servers state"). `show stat` is read in its JSON form with JSON.parse.

/** HAProxy's operational state of a server (`srv_op_state`: 0..3). */
export type OperationalState = 'stopped' | 'starting' | 'running' | 'stopping';
/** The administrative state a runtime command (or the config) put a server in (`srv_admin_state` bits, decoded). */
export type AdminState = 'ready' | 'drain' | 'maint';

/** One row of `show servers state <backend>`. */
export interface ServerStateRow {
  backend: string;
  /** `be_id`: the backend's numeric id (unambiguous where a frontend has the same name). */
  backendId: number;
  name: string;
  /** `srv_id`: the server's numeric id in its backend. */
  serverId: number;
  address: string;
  port: number;
  /** `srv_fqdn`: the name in the server line when it was a name, else undefined. */
  fqdn?: string;
  operational: OperationalState;
  admin: AdminState;
}

/** The live figures `show stat` gives for one server. */
export interface ServerStat {
  backend: string;
  name: string;
  /** `status`: UP, DOWN, MAINT, DRAIN, NOLB, "UP 1/2" (going down), "DOWN 1/2" (going up), "no check". */
  status: string;
  /** `scur`: sessions open on the server now. */
  sessions: number;
  /** `check_desc`: the last health check's result in words ("Layer4 connection problem"). */
  check?: string;
}

const OPERATIONAL: OperationalState[] = ['stopped', 'starting', 'running', 'stopping'];
// srv_admin_state bits: FMAINT 0x01, IMAINT 0x02, CMAINT 0x04, FDRAIN 0x08, IDRAIN 0x10, RMAINT 0x20, HMAINT 0x40
const MAINT_BITS = 0x01 | 0x02 | 0x04 | 0x20 | 0x40;
const DRAIN_BITS = 0x08 | 0x10;
const REQUIRED = ['be_id', 'be_name', 'srv_id', 'srv_name', 'srv_addr', 'srv_port', 'srv_op_state', 'srv_admin_state'];

/**
 * The rows of a `show servers state` answer: a format version line, a `# be_id be_name ...` header, one line per
 * server. Columns are found by the header's names (their order and number change between HAProxy versions).
 * Throws a plain Error when the header or a needed column is missing (the caller says which socket answered that).
 */
export function parseServersState(text: string): ServerStateRow[] {
  const lines = text.split('\n').map((line) => line.trim());
  const header = lines.find((line) => line.startsWith('#'));
  if (!header) throw new Error(`no "# be_id be_name ..." header in the answer: ${firstLine(text)}`);
  const columns = header.replace(/^#\s*/, '').split(/\s+/);
  const missing = REQUIRED.filter((name) => !columns.includes(name));
  if (missing.length > 0) throw new Error(`the answer has no ${missing.join(', ')} column`);
  const at = (fields: string[], name: string) => fields[columns.indexOf(name)] ?? '';
  const headerIndex = lines.indexOf(header);
  return lines
    .slice(headerIndex + 1)
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const fields = line.split(/\s+/);
      const admin = Number(at(fields, 'srv_admin_state'));
      const fqdn = at(fields, 'srv_fqdn');
      return {
        backend: at(fields, 'be_name'),
        backendId: Number(at(fields, 'be_id')),
        name: at(fields, 'srv_name'),
        serverId: Number(at(fields, 'srv_id')),
        address: at(fields, 'srv_addr'),
        port: Number(at(fields, 'srv_port')),
        ...(fqdn && fqdn !== '-' ? { fqdn } : {}),
        operational: OPERATIONAL[Number(at(fields, 'srv_op_state'))] ?? 'stopped',
        admin: admin & MAINT_BITS ? 'maint' : admin & DRAIN_BITS ? 'drain' : 'ready',
      };
    });
}

interface StatField {
  objType?: string;
  field?: { name?: string };
  value?: { value?: unknown };
}

/** The server rows of a `show stat ... json` answer (frontend and backend totals left out). */
export function parseStatJson(text: string): ServerStat[] {
  let records: unknown;
  try {
    records = JSON.parse(text);
  } catch {
    throw new Error(`the answer is not JSON: ${firstLine(text)}`);
  }
  if (!Array.isArray(records)) throw new Error(`the answer is not a list of records: ${firstLine(text)}`);
  return records.flatMap((record: StatField[]) => {
    if (!Array.isArray(record) || record[0]?.objType !== 'Server') return [];
    const values = new Map(record.map((f) => [f.field?.name, f.value?.value]));
    const check = values.get('check_desc');
    return [
      {
        backend: String(values.get('pxname') ?? ''),
        name: String(values.get('svname') ?? ''),
        status: String(values.get('status') ?? ''),
        sessions: Number(values.get('scur') ?? 0),
        ...(typeof check === 'string' && check ? { check } : {}),
      },
    ];
  });
}

function firstLine(text: string): string {
  return JSON.stringify(text.trim().split('\n')[0]?.slice(0, 120) ?? '');
}
