/**
 * InfluxDB's annotated CSV (the answer of `/api/v2/query`): tables separated by blank
 * lines, each with optional `#datatype`, `#group` and `#default` rows, then a header row,
 * then records. A query that fails after the answer began comes back as a table whose
 * header has `error` and `reference` columns.
 */

export interface FluxRecord {
  /** Column name → cell text, with `#default` applied; `null` for an empty cell. */
  cells: Record<string, string | null>;
  /** Column name → `#datatype` (`double`, `long`, `string`, `dateTime:RFC3339`, …). */
  types: Record<string, string>;
}

export interface FluxResult {
  records: FluxRecord[];
  /** The message of an error table, when the query failed mid-answer. */
  error?: string;
}

/** RFC 4180 rows: quoted cells may hold commas, quotes (doubled) and line breaks. */
export function parseCsvRows(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ",") {
      row.push(cell);
      cell = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
    } else {
      cell += c;
    }
  }
  if (cell !== "" || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

export function parseAnnotatedCsv(text: string): FluxResult {
  const records: FluxRecord[] = [];
  let annotations = new Map<string, string[]>();
  let header: string[] | undefined;
  for (const row of parseCsvRows(text)) {
    if (row.length === 1 && row[0]!.trim() === "") {
      // A blank line ends the table; the next one brings its own annotations and header.
      header = undefined;
      annotations = new Map();
      continue;
    }
    const first = row[0] ?? "";
    if (first.startsWith("#")) {
      if (header !== undefined) {
        header = undefined;
        annotations = new Map();
      }
      annotations.set(first, row);
      continue;
    }
    if (header === undefined) {
      header = row;
      continue;
    }
    const errorAt = header.indexOf("error");
    if (errorAt > 0 && header.includes("reference")) return { records, error: row[errorAt] ?? "unknown error" };
    records.push(record(header, row, annotations));
  }
  return { records };
}

function record(header: string[], row: string[], annotations: Map<string, string[]>): FluxRecord {
  const defaults = annotations.get("#default") ?? [];
  const datatypes = annotations.get("#datatype") ?? [];
  const cells: Record<string, string | null> = {};
  const types: Record<string, string> = {};
  header.forEach((name, i) => {
    if (i === 0 && name === "") return;
    const raw = row[i] ?? "";
    const value = raw !== "" ? raw : (defaults[i] ?? "");
    cells[name] = value === "" ? null : value;
    if (datatypes[i]) types[name] = datatypes[i];
  });
  return { cells, types };
}
