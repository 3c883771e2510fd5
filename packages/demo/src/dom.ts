// Small DOM helpers. Text goes in through textContent only: user data never meets innerHTML.

type Child = Node | string | null | undefined | false;

export interface ElementProps {
  class?: string;
  /** Set as textContent. */
  text?: string;
  /** Attributes, set with setAttribute (values are never parsed as markup). */
  attrs?: Record<string, string>;
}

/** `document.createElement` with a class, text, attributes and children (strings become text nodes). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: ElementProps = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.class) el.className = props.class;
  if (props.text !== undefined) el.textContent = props.text;
  for (const [name, value] of Object.entries(props.attrs ?? {})) el.setAttribute(name, value);
  for (const child of children) if (child) el.append(child);
  return el;
}

/** The element matching `selector`, checked to be a `type`: a missing element is a bug in index.html. */
export function $<T extends Element>(selector: string, type: new () => T, root: ParentNode = document): T {
  const el = root.querySelector(selector);
  if (!(el instanceof type)) throw new Error(`index.html: ${selector} is missing or not a ${type.name}`);
  return el;
}
