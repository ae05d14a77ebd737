/**
 * Checks rendered HTML against the markup the demo page's renderers may produce: known tags, known attributes, no
 * event handlers, links only to http(s)/mailto. A test helper for the XSS cases.
 */
const TAGS = new Set([
  'b',
  'i',
  's',
  'code',
  'pre',
  'a',
  'span',
  'blockquote',
  'br',
  'div',
  'h3',
  'hr',
  'button',
  'img',
  'figure',
  'figcaption',
  'label',
  'input',
  'textarea',
  'select',
  'option',
  'ul',
  'ol',
  'li',
  'section',
  'h2',
  'article',
  'time',
  'p',
  'form',
  'header',
  'footer',
]);
const ATTRS =
  /^(class|href|target|rel|src|alt|type|name|value|id|for|rows|placeholder|minlength|maxlength|step|title|style|role|disabled|checked|selected|multiple|required|data-[a-z-]+)$/;

/** True when every tag and attribute in `html` is one the renderers are allowed to emit. */
export function onlyAllowedMarkup(html: string): boolean {
  const tag = /<\/?([a-zA-Z0-9]+)([^>]*)>/g;
  for (let m = tag.exec(html); m; m = tag.exec(html)) {
    if (!TAGS.has(m[1].toLowerCase())) return false;
    const attrs = m[2]
      .replace(/="[^"]*"/g, '')
      .trim()
      .split(/\s+/)
      .filter(Boolean);
    if (!attrs.every((a) => ATTRS.test(a))) return false;
    const href = /\s(?:href|src)="([^"]*)"/.exec(m[2]);
    if (href && !/^(https?:\/\/|mailto:|\/demo\/files\/|#msg-[0-9-]+$)/.test(href[1])) return false;
  }
  // A stray `<` outside a tag would mean unescaped text.
  return !/<(?![a-zA-Z/])/.test(html);
}
