//! A reply's DingTalk markdown as a terminal shows it: headings and bold in bold, code in
//! cyan, quotes behind a bar, lists with bullets, @mentions as the member's name. Colours
//! and styles only when asked (a terminal without `NO_COLOR`).

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

const BOLD: &str = "\x1b[1m";
const ITALIC: &str = "\x1b[3m";
const STRIKE: &str = "\x1b[9m";
const DIM: &str = "\x1b[2m";
const CYAN: &str = "\x1b[36m";
const BLUE: &str = "\x1b[34m";
const RESET: &str = "\x1b[0m";

/// Renders `markdown`, showing `@id` for each `(id, name)` in `mentions` as `@name`.
pub fn render(markdown: &str, mentions: &[(&str, &str)], color: bool) -> String {
    let mut r = Renderer {
        out: String::new(),
        color,
        styles: Vec::new(),
        lists: Vec::new(),
        quote_depth: 0,
        at_line_start: true,
        blank_pending: false,
        link: None,
    };
    for event in Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH) {
        r.event(event, mentions);
    }
    r.out.truncate(r.out.trim_end().len());
    r.out
}

struct Renderer {
    out: String,
    color: bool,
    styles: Vec<&'static str>,
    /// One entry per open list: the next number, or `None` for bullets.
    lists: Vec<Option<u64>>,
    quote_depth: usize,
    at_line_start: bool,
    /// A block ended: the next block starts after an empty line.
    blank_pending: bool,
    link: Option<String>,
}

impl Renderer {
    fn event(&mut self, event: Event<'_>, mentions: &[(&str, &str)]) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => self.text(&text, mentions),
            Event::Code(code) => {
                self.push_style(CYAN);
                self.write(&code);
                self.pop_style();
            }
            Event::SoftBreak | Event::HardBreak => self.newline(),
            Event::Rule => {
                self.block();
                self.write("────────────────");
                self.end_block();
            }
            Event::Html(html) | Event::InlineHtml(html) => self.write(html.trim_end()),
            _ => {}
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph => self.block(),
            Tag::Heading { .. } => {
                self.block();
                self.push_style(BOLD);
            }
            Tag::BlockQuote(_) => {
                self.block();
                self.quote_depth += 1;
            }
            Tag::CodeBlock(kind) => {
                self.block();
                if let CodeBlockKind::Fenced(lang) = kind
                    && !lang.is_empty()
                {
                    self.push_style(DIM);
                    self.write(&format!("[{lang}]"));
                    self.pop_style();
                    self.newline();
                }
                self.push_style(CYAN);
            }
            Tag::List(first) => {
                if self.lists.is_empty() {
                    self.block();
                } else if !self.at_line_start {
                    self.newline();
                }
                self.lists.push(first);
            }
            Tag::Item => {
                if !self.at_line_start {
                    self.newline();
                }
                let depth = self.lists.len().saturating_sub(1);
                let marker = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        *n += 1;
                        format!("{}. ", *n - 1)
                    }
                    _ => "• ".to_owned(),
                };
                self.write(&format!("{}{marker}", "  ".repeat(depth)));
            }
            Tag::Emphasis => self.push_style(ITALIC),
            Tag::Strong => self.push_style(BOLD),
            Tag::Strikethrough => self.push_style(STRIKE),
            Tag::Link { dest_url, .. } => {
                self.push_style(BLUE);
                self.link = Some(dest_url.into_string());
            }
            Tag::Image { dest_url, .. } => self.write(&format!("[image {dest_url}] ")),
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => self.end_block(),
            TagEnd::Heading(_) | TagEnd::CodeBlock => {
                self.pop_style();
                self.end_block();
            }
            TagEnd::BlockQuote(_) => {
                self.quote_depth = self.quote_depth.saturating_sub(1);
                self.end_block();
            }
            TagEnd::List(_) => {
                self.lists.pop();
                if self.lists.is_empty() {
                    self.end_block();
                }
            }
            TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough => self.pop_style(),
            TagEnd::Link => {
                self.pop_style();
                if let Some(url) = self.link.take() {
                    self.push_style(DIM);
                    self.write(&format!(" ({url})"));
                    self.pop_style();
                }
            }
            _ => {}
        }
    }

    fn text(&mut self, text: &str, mentions: &[(&str, &str)]) {
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                self.newline();
            }
            self.mentioning(line, mentions);
        }
    }

    /// Writes `line`, showing each `@id` of `mentions` as a highlighted `@name`.
    fn mentioning(&mut self, line: &str, mentions: &[(&str, &str)]) {
        let mut rest = line;
        while let Some((at, id, name)) = mentions
            .iter()
            .filter_map(|(id, name)| rest.find(&format!("@{id}")).map(|at| (at, *id, *name)))
            .min_by_key(|(at, ..)| *at)
        {
            self.write(&rest[..at]);
            self.push_style(BLUE);
            self.push_style(BOLD);
            self.write(&format!("@{name}"));
            self.pop_style();
            self.pop_style();
            rest = &rest[at + 1 + id.len()..];
        }
        self.write(rest);
    }

    /// Starts a block: an empty line after the previous one.
    fn block(&mut self) {
        if !self.at_line_start {
            self.newline();
        }
        if self.blank_pending && !self.out.is_empty() {
            self.newline();
        }
        self.blank_pending = false;
    }

    fn end_block(&mut self) {
        if !self.at_line_start {
            self.newline();
        }
        self.blank_pending = true;
    }

    fn newline(&mut self) {
        if self.color && !self.styles.is_empty() {
            self.out.push_str(RESET);
        }
        self.out.push('\n');
        self.at_line_start = true;
    }

    fn write(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        if self.at_line_start {
            self.at_line_start = false;
            for _ in 0..self.quote_depth {
                self.out.push_str("│ ");
            }
            if self.color {
                for style in &self.styles {
                    self.out.push_str(style);
                }
            }
        }
        self.out.push_str(s);
    }

    fn push_style(&mut self, style: &'static str) {
        self.styles.push(style);
        if self.color && !self.at_line_start {
            self.out.push_str(style);
        }
    }

    fn pop_style(&mut self) {
        self.styles.pop();
        if self.color && !self.at_line_start {
            self.out.push_str(RESET);
            for style in &self.styles {
                self.out.push_str(style);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn plain_rendering_keeps_the_words_and_drops_the_markup() {
        let md = "### Group\n\n**Name:** Demo `x`\n\n- one\n- two\n\n> quoted\n\n[docs](https://d.example)";
        assert_eq!(
            render(md, &[], false),
            "Group\n\nName: Demo x\n\n• one\n• two\n\n│ quoted\n\ndocs (https://d.example)"
        );
    }

    #[test]
    fn mentions_show_the_name_and_numbered_lists_count() {
        let md = "@owner01 done\n\n1. a\n2. b";
        assert_eq!(
            render(md, &[("owner01", "张伟")], false),
            "@张伟 done\n\n1. a\n2. b"
        );
    }

    #[test]
    fn colour_wraps_styles_and_resets_them() {
        let out = render("**bold** and `code`", &[], true);
        assert_eq!(out, "\x1b[1mbold\x1b[0m and \x1b[36mcode\x1b[0m", "{out:?}");
    }
}
