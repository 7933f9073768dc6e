// A small Markdown renderer for model answers. Safety comes from order: every piece of source text is
// HTML-escaped before any tag is added, and the only attribute built from the text is an http(s) link.
// It must also render half-written Markdown sanely, because answers are re-rendered on every streamed
// token: an unclosed ``` fence becomes a code block marked as in progress, and unclosed inline markers
// stay literal.
(function (global) {
  "use strict";

  const escapes = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  function escapeHtml(text) {
    return text.replace(/[&<>"']/g, (c) => escapes[c]);
  }

  const fencePattern = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/;
  const headingPattern = /^ {0,3}(#{1,6})(?:\s+(.*?))?\s*#*\s*$/;
  const listItemPattern = /^( *)([-*+]|\d{1,9}[.)])(?:\s+(.*)|\s*$)/;
  const rulePattern = /^ {0,3}([-*_])(?:\s*\1){2,}\s*$/;
  const quotePattern = /^ {0,3}> ?(.*)$/;

  function isBlank(line) {
    return line.trim() === "";
  }

  function startsOtherBlock(line) {
    return fencePattern.test(line) || headingPattern.test(line) || rulePattern.test(line) ||
      quotePattern.test(line) || listItemPattern.test(line);
  }

  // Inline spans. Code spans are cut out first so nothing inside them is interpreted; placeholders use
  // a control character that the input can never contain (it is stripped in render()).
  function renderInline(text) {
    const held = [];
    const hold = (html) => "\u0001" + (held.push(html) - 1) + "\u0001";

    let out = text.replace(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/g, (_, ticks, code) =>
      hold("<code>" + escapeHtml(code.replace(/^ (.+) $/, "$1")) + "</code>"));
    out = escapeHtml(out);

    // Links: the text was escaped already, so the URL cannot close the attribute; anything that is not
    // http(s) stays plain text (no javascript:, data:, relative paths).
    out = out.replace(/\[([^\]\n]+)\]\(\s*(https?:\/\/[^\s)]+)\s*\)/gi, (_, label, url) =>
      hold('<a href="' + url + '" target="_blank" rel="noopener noreferrer">' + label + "</a>"));
    out = out.replace(/(^|[\s(])(https?:\/\/[^\s<)]*[^\s<).,;:!?'"])/gi, (_, before, url) =>
      before + hold('<a href="' + url + '" target="_blank" rel="noopener noreferrer">' + url + "</a>"));

    out = out.replace(/\*\*(?=\S)([\s\S]*?\S)\*\*/g, "<strong>$1</strong>");
    out = out.replace(/(^|[^\w])__(?=\S)([\s\S]*?\S)__(?!\w)/g, "$1<strong>$2</strong>");
    out = out.replace(/(^|[^*\w])\*(?=[^\s*])([^*]*?[^\s*])\*(?!\*)/g, "$1<em>$2</em>");
    out = out.replace(/(^|[^\w])_(?=[^\s_])([^_]*?[^\s_])_(?!\w)/g, "$1<em>$2</em>");
    out = out.replace(/~~(?=\S)([\s\S]*?\S)~~/g, "<del>$1</del>");

    // Placeholders can nest (a code span inside a link label), so restore until none are left.
    while (/\u0001\d+\u0001/.test(out))
      out = out.replace(/\u0001(\d+)\u0001/g, (_, i) => held[Number(i)]);
    return out;
  }

  function renderCodeBlock(language, code, complete) {
    const lang = escapeHtml(language);
    return '<div class="code-block' + (complete ? "" : " in-progress") + '">' +
      '<div class="code-header"><span class="code-language">' + (lang || "text") + "</span>" +
      '<button type="button" class="copy-code" title="Copy code">Copy</button></div>' +
      "<pre><code" + (lang ? ' class="language-' + lang + '"' : "") + ">" + escapeHtml(code) + "</code></pre></div>";
  }

  // Lists: items are collected with their indentation; lines indented past the marker belong to the item
  // and are rendered recursively, which gives nested lists without a separate nesting parser.
  function parseList(lines, start) {
    const first = listItemPattern.exec(lines[start]);
    const baseIndent = first[1].length;
    const ordered = /\d/.test(first[2]);
    const items = [];
    let i = start;
    while (i < lines.length) {
      const m = listItemPattern.exec(lines[i]);
      if (m && m[1].length === baseIndent && /\d/.test(m[2]) === ordered) {
        items.push({ lines: [m[3] || ""], number: ordered ? parseInt(m[2], 10) : null });
        i++;
        continue;
      }
      if (items.length === 0) break;
      if (isBlank(lines[i])) {
        // A blank line ends the list unless the list (or the current item) carries on after it.
        const next = lines[i + 1];
        const nextItem = next !== undefined && listItemPattern.exec(next);
        if (next !== undefined && ((nextItem && nextItem[1].length >= baseIndent) || /^\s{2,}\S/.test(next))) {
          items[items.length - 1].lines.push("");
          i++;
          continue;
        }
        break;
      }
      const indent = lines[i].match(/^ */)[0].length;
      if (indent > baseIndent || !startsOtherBlock(lines[i])) {
        items[items.length - 1].lines.push(indent > baseIndent ? lines[i].slice(Math.min(indent, baseIndent + 4)) : lines[i].trim());
        i++;
        continue;
      }
      break;
    }
    const tag = ordered ? "ol" : "ul";
    const startAttr = ordered && items[0].number !== 1 ? ' start="' + items[0].number + '"' : "";
    const html = "<" + tag + startAttr + ">" + items.map((item) => {
      const inner = renderBlocks(item.lines);
      // A tight item is just a paragraph: drop the wrapper so the list stays compact.
      return "<li>" + inner.replace(/^<p>([\s\S]*?)<\/p>/, "$1") + "</li>";
    }).join("") + "</" + tag + ">";
    return { html, next: i };
  }

  function renderBlocks(lines) {
    const html = [];
    let i = 0;
    while (i < lines.length) {
      const line = lines[i];
      if (isBlank(line)) { i++; continue; }

      const fence = fencePattern.exec(line);
      if (fence) {
        const marker = fence[1];
        const indent = line.match(/^ */)[0].length;
        const body = [];
        let closed = false;
        i++;
        while (i < lines.length) {
          const close = lines[i].match(/^ {0,3}(`{3,}|~{3,})\s*$/);
          if (close && close[1][0] === marker[0] && close[1].length >= marker.length) { closed = true; i++; break; }
          body.push(indent ? lines[i].replace(new RegExp("^ {0," + indent + "}"), "") : lines[i]);
          i++;
        }
        html.push(renderCodeBlock(fence[2], body.join("\n"), closed));
        continue;
      }

      const heading = headingPattern.exec(line);
      if (heading) {
        const level = heading[1].length;
        html.push("<h" + level + ">" + renderInline(heading[2] || "") + "</h" + level + ">");
        i++;
        continue;
      }

      if (rulePattern.test(line)) { html.push("<hr>"); i++; continue; }

      if (quotePattern.test(line)) {
        const quoted = [];
        while (i < lines.length && !isBlank(lines[i])) {
          const q = quotePattern.exec(lines[i]);
          quoted.push(q ? q[1] : lines[i]);
          i++;
        }
        html.push("<blockquote>" + renderBlocks(quoted) + "</blockquote>");
        continue;
      }

      if (listItemPattern.test(line) && listItemPattern.exec(line)[3] !== undefined) {
        const list = parseList(lines, i);
        html.push(list.html);
        i = list.next;
        continue;
      }

      // A paragraph; single newlines stay line breaks because models write them as such.
      const paragraph = [];
      while (i < lines.length && !isBlank(lines[i]) && (paragraph.length === 0 || !startsOtherBlock(lines[i]))) {
        paragraph.push(lines[i].trim());
        i++;
      }
      html.push("<p>" + paragraph.map(renderInline).join("<br>") + "</p>");
    }
    return html.join("");
  }

  function render(markdown) {
    const text = String(markdown ?? "").replace(/\r\n?/g, "\n").replace(/[\u0000\u0001]/g, "").replace(/\t/g, "    ");
    return renderBlocks(text.split("\n"));
  }

  global.CamelidMarkdown = { render, escapeHtml };
})(typeof window !== "undefined" ? window : globalThis);
