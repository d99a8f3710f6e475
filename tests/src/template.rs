//! `template.yaml` as the tests read it: each function's properties, and what its IAM policy
//! allows on the table. A reader of the YAML subset the template's function properties use
//! (block maps and sequences, flow lists of scalars, quoted and tagged scalars, comments), not
//! a general YAML parser.

/// A node of the YAML subset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Scalar(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

impl Node {
    /// The value under `key` of a map.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn scalar(&self) -> Option<&str> {
        match self {
            Node::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// A scalar as a one-item list, a sequence's scalars as a list.
    pub fn strings(&self) -> Vec<String> {
        match self {
            Node::Scalar(s) => vec![s.clone()],
            Node::Seq(items) => items
                .iter()
                .filter_map(|n| n.scalar().map(str::to_string))
                .collect(),
            Node::Map(_) => Vec::new(),
        }
    }
}

/// The repository's `template.yaml`.
pub fn template_text() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    std::fs::read_to_string(path).expect("read template.yaml")
}

/// The `Properties` of the resource `name` (a direct child of `Resources`).
pub fn resource_properties(template: &str, name: &str) -> Node {
    let header = format!("  {name}:");
    let mut lines = template.lines().skip_while(|l| *l != header).skip(1);
    let mut block = Vec::new();
    let mut inside = false;
    for line in lines.by_ref() {
        let indent = indent_of(line);
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if indent <= 2 {
            break; // the next resource
        }
        if indent == 4 {
            inside = trimmed == "Properties:";
            continue;
        }
        if inside {
            block.push((indent, strip_comment(trimmed).to_string()));
        }
    }
    assert!(
        !block.is_empty(),
        "{name} has no Properties in template.yaml"
    );
    let mut pos = 0;
    parse_block(&block, &mut pos, block[0].0)
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The line without a trailing ` # comment` outside quotes.
fn strip_comment(text: &str) -> &str {
    let mut quote = None;
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match (quote, b) {
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), _) if q == b => quote = None,
            (None, b'#') if i > 0 && bytes[i - 1] == b' ' => return text[..i].trim_end(),
            _ => {}
        }
    }
    text
}

/// `key: value` or `key:` (the value follows, indented); None for a plain scalar line.
fn split_key(text: &str) -> Option<(String, &str)> {
    if let Some(key) = text.strip_suffix(':') {
        if !key.contains(": ") {
            return Some((unquote(key), ""));
        }
    }
    let (key, value) = text.split_once(": ")?;
    if key.starts_with('!') || key.starts_with('[') {
        return None;
    }
    Some((unquote(key), value.trim()))
}

fn unquote(text: &str) -> String {
    let t = text.trim();
    for q in ['"', '\''] {
        if t.len() >= 2 && t.starts_with(q) && t.ends_with(q) {
            return t[1..t.len() - 1].to_string();
        }
    }
    t.to_string()
}

fn value(text: &str) -> Node {
    let t = text.trim();
    if let Some(inner) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        if !inner.contains('[') {
            return Node::Seq(inner.split(',').map(|v| Node::Scalar(unquote(v))).collect());
        }
    }
    Node::Scalar(unquote(t))
}

/// The block of lines at `indent` starting at `pos`: a sequence, a map, or one scalar.
fn parse_block(lines: &[(usize, String)], pos: &mut usize, indent: usize) -> Node {
    let Some((_, first)) = lines.get(*pos) else {
        return Node::Scalar(String::new());
    };
    if first.starts_with("- ") || first == "-" {
        let mut items = Vec::new();
        while let Some((i, text)) = lines.get(*pos) {
            if *i != indent || !(text.starts_with("- ") || text == "-") {
                break;
            }
            let rest = text.trim_start_matches('-').trim_start().to_string();
            let item_indent = indent + 2;
            match split_key(&rest) {
                Some(_) => {
                    // A map whose first entry shares the dash's line.
                    let mut sub = vec![(item_indent, rest)];
                    *pos += 1;
                    while let Some((j, t)) = lines.get(*pos) {
                        if *j < item_indent {
                            break;
                        }
                        sub.push((*j, t.clone()));
                        *pos += 1;
                    }
                    let mut p = 0;
                    items.push(parse_block(&sub, &mut p, item_indent));
                }
                None => {
                    items.push(value(&rest));
                    *pos += 1;
                }
            }
        }
        return Node::Seq(items);
    }
    if split_key(first).is_none() {
        *pos += 1;
        return value(first);
    }
    let mut entries = Vec::new();
    while let Some((i, text)) = lines.get(*pos) {
        if *i != indent {
            break;
        }
        let Some((key, rest)) = split_key(text) else {
            break;
        };
        *pos += 1;
        let node = if rest.is_empty() || rest == ">-" || rest == "|" {
            match lines.get(*pos) {
                Some((j, _)) if *j > indent => {
                    let nested = *j;
                    parse_block(lines, pos, nested)
                }
                _ => Node::Scalar(String::new()),
            }
        } else {
            value(rest)
        };
        entries.push((key, node));
    }
    Node::Map(entries)
}

/// One statement of a function's inline policy, as far as the table is concerned.
#[derive(Debug, Clone)]
pub struct Statement {
    pub sid: String,
    pub actions: Vec<String>,
    pub resource: String,
    /// `ForAllValues:StringLike` on `dynamodb:LeadingKeys`.
    pub leading_keys_like: Vec<String>,
    /// `ForAllValues:StringNotLike` on `dynamodb:LeadingKeys`.
    pub leading_keys_not_like: Vec<String>,
    /// `Null` on `dynamodb:LeadingKeys` is "false": a request must name its keys.
    pub requires_keys: bool,
}

/// The resource every table statement names.
pub const TABLE: &str = "!GetAtt ScimTable.Arn";

/// The statements of the inline policies of the function resource `name`.
pub fn statements(template: &str, name: &str) -> Vec<Statement> {
    let properties = resource_properties(template, name);
    let Some(Node::Seq(policies)) = properties.get("Policies") else {
        panic!("{name} has no Policies");
    };
    let mut out = Vec::new();
    for policy in policies {
        let Some(Node::Seq(list)) = policy.get("Statement") else {
            continue;
        };
        for st in list {
            let leading = |operator: &str| {
                st.get("Condition")
                    .and_then(|c| c.get(operator))
                    .and_then(|o| o.get("dynamodb:LeadingKeys"))
                    .map(Node::strings)
                    .unwrap_or_default()
            };
            out.push(Statement {
                sid: st
                    .get("Sid")
                    .map(Node::strings)
                    .unwrap_or_default()
                    .join(""),
                actions: st.get("Action").map(Node::strings).unwrap_or_default(),
                resource: st
                    .get("Resource")
                    .map(Node::strings)
                    .unwrap_or_default()
                    .join(""),
                leading_keys_like: leading("ForAllValues:StringLike"),
                leading_keys_not_like: leading("ForAllValues:StringNotLike"),
                requires_keys: leading("Null") == ["false"],
            });
        }
    }
    out
}

/// IAM's `StringLike`: `*` any run of characters, `?` any one character.
pub fn string_like(pattern: &str, value: &str) -> bool {
    let (p, v): (Vec<char>, Vec<char>) = (pattern.chars().collect(), value.chars().collect());
    let (mut pi, mut vi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, vi));
            pi += 1;
        } else if let Some((sp, sv)) = star {
            pi = sp + 1;
            vi = sv + 1;
            star = Some((sp, sv + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Whether the statements allow `action` (e.g. `dynamodb:PutItem`) on the table item whose
/// partition key is `pk`, as IAM evaluates `dynamodb:LeadingKeys` for a one-key request.
pub fn allows(statements: &[Statement], action: &str, pk: &str) -> bool {
    statements.iter().any(|st| {
        st.resource == TABLE
            && st.actions.iter().any(|a| a == action)
            && (st.leading_keys_like.is_empty()
                || st.leading_keys_like.iter().any(|p| string_like(p, pk)))
            && !st.leading_keys_not_like.iter().any(|p| string_like(p, pk))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_like_matches_as_iam_does() {
        assert!(string_like("TENANT#*#AUDIT", "TENANT#acme#AUDIT"));
        assert!(string_like("TENANT#*#AUDIT", "TENANT#a#UNIQUE#X#b#AUDIT"));
        assert!(!string_like("TENANT#*#AUDIT", "TENANT#acme#AUDITS"));
        assert!(string_like("TENANT#*", "TENANT#"));
        assert!(!string_like("TENANT#*#*", "TENANT#acme"));
        assert!(string_like("a?c", "abc"));
        assert!(!string_like("TOKEN#*", "TENANT#x"));
    }

    #[test]
    fn the_yaml_subset_reads_nested_maps_sequences_and_flow_lists() {
        let lines: Vec<(usize, String)> = [
            (0, "Policies:"),
            (2, "- Version: \"2012-10-17\""),
            (4, "Statement:"),
            (6, "- Sid: A"),
            (8, "Action: [\"x:Y\", x:Z]"),
            (8, "Condition:"),
            (10, "\"Null\":"),
            (12, "k: \"false\""),
            (6, "- Sid: B"),
            (8, "Action:"),
            (10, "- x:W"),
        ]
        .iter()
        .map(|(i, t)| (*i, t.to_string()))
        .collect();
        let mut pos = 0;
        let node = parse_block(&lines, &mut pos, 0);
        let statement = node.get("Policies").unwrap();
        let Node::Seq(policies) = statement else {
            panic!("{node:?}")
        };
        let Some(Node::Seq(list)) = policies[0].get("Statement") else {
            panic!("{node:?}")
        };
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].get("Action").unwrap().strings(), ["x:Y", "x:Z"]);
        assert_eq!(
            list[0]
                .get("Condition")
                .unwrap()
                .get("Null")
                .unwrap()
                .get("k"),
            Some(&Node::Scalar("false".into()))
        );
        assert_eq!(list[1].get("Action").unwrap().strings(), ["x:W"]);
    }
}
