// The grammars of tracer-native event names and filter expressions, as zod
// schemas the drivers declare (TracerDriver.nativeName / nativeFilter) and the
// config rules check when an instrumentation set is loaded. They are the first
// line against injection: a name or filter outside them never reaches a guest
// fragment. The second line is shellQuote, applied to every interpolation
// anyway (filters legitimately hold `>`, `&&`, `*`, `"`, spaces and, in LTTng,
// `$ctx.`, all of which a shell would act on unquoted).
import { z } from 'zod';

/** A name schema: the whole string must match `re`; the message shows the value and what was expected. */
export function namePattern(tracer: string, re: RegExp, expected: string): z.ZodType<string, z.ZodTypeDef, string> {
  return z.string().superRefine((s, ctx) => {
    if (!re.test(s)) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${JSON.stringify(s)} is not a valid ${tracer} event name (${expected})` });
  });
}

export interface FilterDialect {
  tracer: string;
  /** operators, longest first is not required: the tokenizer tries longer ones first */
  operators: string[];
  /** LTTng's `$ctx.procname`, `$app.…`, `$container.…` context fields */
  contextFields: boolean;
}

/** Characters allowed inside a double-quoted string literal: no quote, backslash, $ or backtick, no control characters. */
const STRING_BODY = /^[A-Za-z0-9_ .*?[\]:/+,=@%^#~-]*$/;
const FIELD = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(\[[0-9]+\])?/;
const NUMBER = /^-?(0[xX][0-9a-fA-F]+|[0-9]+)\b/;

/**
 * Why `expr` is outside the dialect's grammar, or undefined when it is inside.
 * The grammar is lexical (fields, numbers, "strings", operators, parentheses,
 * spaces): the tracer itself parses the expression; this only makes sure every
 * character is one a filter needs and none only a shell would use.
 */
export function filterProblem(expr: string, d: FilterDialect): string | undefined {
  const ops = [...d.operators].sort((a, b) => b.length - a.length);
  const where = (i: number) => `${JSON.stringify(expr[i])} at column ${i + 1}`;
  const grammar = `fields, numbers, "strings", the operators ${ops.join(' ')}, parentheses and spaces`;
  if (expr.trim() === '') return 'is empty';
  let depth = 0;
  for (let i = 0; i < expr.length; ) {
    const rest = expr.slice(i);
    const c = expr[i];
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '(' || c === ')') {
      depth += c === '(' ? 1 : -1;
      if (depth < 0) return `${where(i)} closes a parenthesis that was not opened`;
      i++;
      continue;
    }
    if (c === '"') {
      const end = expr.indexOf('"', i + 1);
      if (end < 0) return `the string opened at column ${i + 1} is not closed`;
      const body = expr.slice(i + 1, end);
      if (!STRING_BODY.test(body)) {
        const bad = [...body].findIndex((ch) => !STRING_BODY.test(ch));
        return `${where(i + 1 + bad)} is not allowed in a filter string (letters, digits, spaces and . * ? [ ] : / + , = @ % ^ # ~ - _ only)`;
      }
      i = end + 1;
      continue;
    }
    const ctxField = d.contextFields ? /^\$(ctx|app|container)\./.exec(rest) : null;
    const field = FIELD.exec(ctxField ? rest.slice(ctxField[0].length) : rest);
    if (field) {
      i += (ctxField?.[0].length ?? 0) + field[0].length;
      continue;
    }
    const num = NUMBER.exec(rest);
    if (num) {
      i += num[0].length;
      continue;
    }
    const op = ops.find((o) => rest.startsWith(o));
    if (op) {
      i += op.length;
      continue;
    }
    return `${where(i)} is outside the filter grammar: ${grammar}`;
  }
  if (depth > 0) return 'a parenthesis is not closed';
  return undefined;
}

/** A filter schema for one tracer's dialect; the message shows the filter and the first offending character. */
export function filterSchema(d: FilterDialect): z.ZodType<string, z.ZodTypeDef, string> {
  return z.string().superRefine((s, ctx) => {
    const p = filterProblem(s, d);
    if (p) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${d.tracer} filter ${JSON.stringify(s)}: ${p}` });
  });
}
