// The TypeScript type of a JSON Schema written `as const` in this package: the schemas are the one
// definition, and both the types (here) and the validators (scripts/generate-validators.ts) come from them.
// Covers the keywords the package uses: const, enum, type (string/integer/number/boolean/null/array/
// object), items, properties + required, and anyOf (a union) on a schema without `type`. Anything else is `unknown`;
// keywords that only narrow (pattern, minLength, if/then) do not change the type.

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type ObjectOf<P, R> = Simplify<
  { -readonly [K in keyof P & R]: Infer<P[K]> } & { -readonly [K in Exclude<keyof P, R>]?: Infer<P[K]> }
>;

/** The value type a schema accepts. */
export type Infer<S> = S extends { const: infer C }
  ? C
  : S extends { enum: readonly (infer E)[] }
    ? E
    : S extends { type: 'string' }
      ? string
      : S extends { type: 'integer' | 'number' }
        ? number
        : S extends { type: 'boolean' }
          ? boolean
          : S extends { type: 'null' }
            ? null
            : S extends { type: 'array'; items: infer I }
              ? Infer<I>[]
              : S extends { type: 'object'; properties: infer P }
                ? ObjectOf<P, S extends { required: readonly (infer R)[] } ? R : never>
                : S extends { anyOf: readonly (infer A)[] }
                  ? Infer<A>
                  : unknown;
