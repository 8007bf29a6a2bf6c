import * as cheerio from 'cheerio';
import { isEmailAddress } from '../domain/company.js';

/** What a page shows a reader: its visible text and the addresses it links with mailto:. */
export interface PageContent {
  /** Visible text, whitespace collapsed to single spaces. */
  text: string;
  /** Lower-cased, deduplicated addresses from mailto: links, in page order. */
  mailtos: string[];
}

const INVISIBLE = 'script, style, noscript, template, head, svg, iframe, object, [hidden], [aria-hidden="true"]';

/** The addresses of one mailto: href (several recipients are comma-separated; query dropped). */
function mailtoAddresses(href: string): string[] {
  const body = href.trim().slice('mailto:'.length).split('?')[0] ?? '';
  let decoded = body;
  try {
    decoded = decodeURIComponent(body);
  } catch {
    // keep the raw text: a malformed escape is the page's problem, not ours
  }
  return decoded
    .split(',')
    .map((a) => a.trim().toLowerCase())
    .filter((a) => isEmailAddress(a));
}

/**
 * Extracts visible text and mailto: addresses from HTML with cheerio. Text and links in script,
 * style, noscript, template, head and hidden elements are dropped; text nodes are joined with spaces so
 * that adjacent blocks do not run together.
 */
export function extractPage(html: string): PageContent {
  const $ = cheerio.load(html);
  // Hidden links first out: an address a reader cannot see is typically spam-trap bait.
  $(INVISIBLE).remove();
  const mailtos: string[] = [];
  $('a[href]').each((_, el) => {
    const href = $(el).attr('href') ?? '';
    if (!/^\s*mailto:/i.test(href)) return;
    for (const address of mailtoAddresses(href.trim().replace(/^mailto:/i, 'mailto:'))) {
      if (!mailtos.includes(address)) mailtos.push(address);
    }
  });
  const parts: string[] = [];
  const walk = (nodes: ReturnType<typeof $>): void => {
    nodes.contents().each((_, node) => {
      if (node.type === 'text') parts.push(node.data);
      else if (node.type === 'tag') walk($(node));
    });
  };
  walk($.root());
  const text = parts.join(' ').replace(/\s+/g, ' ').trim();
  return { text, mailtos };
}
