//! What a template looks up, from its syntax tree: every variable and attribute it names,
//! wherever it appears (behind a filter, in a test, a condition, a loop, a branch no
//! sample takes), with its position, and whether it only asks `is defined`.

use std::collections::HashSet;

use minijinja::machinery::{Span, ast, parse};
use minijinja::syntax::SyntaxConfig;

/// A variable and the attributes looked up on it: `monitor.heartbeat.grace`.
#[derive(Debug)]
pub(super) struct Lookup {
    /// The variable, then each attribute (`x.y` and `x["y"]` alike).
    pub path: Vec<String>,
    /// Where it is in the template.
    pub span: Span,
    /// The operand of `is defined` or `is undefined`: it asks whether the last attribute
    /// is there, so that one may be missing.
    pub probe: bool,
}

/// Every lookup of a variable the template does not set itself (with `set`, `for`,
/// `with`, a macro's arguments, an import), in the order they appear. A name the
/// template sets anywhere counts as set everywhere: nothing it defines is reported.
pub(super) fn lookups(source: &str) -> Result<Vec<Lookup>, minijinja::Error> {
    let tree = parse(source, "<template>", SyntaxConfig::default())?;
    let mut walk = Walk::default();
    walk.set
        .extend(["loop", "self", "super", "caller", "varargs", "kwargs"]);
    walk.stmt(&tree);
    let Walk { set, mut out } = walk;
    out.retain(|l| !set.contains(l.path[0].as_str()));
    Ok(out)
}

#[derive(Default)]
struct Walk<'t> {
    set: HashSet<&'t str>,
    out: Vec<Lookup>,
}

impl<'t> Walk<'t> {
    fn body(&mut self, body: &'t [ast::Stmt<'t>]) {
        for s in body {
            self.stmt(s);
        }
    }

    fn stmt(&mut self, s: &'t ast::Stmt<'t>) {
        use ast::Stmt;
        match s {
            Stmt::Template(t) => self.body(&t.children),
            Stmt::EmitExpr(e) => self.expr(&e.expr, false),
            Stmt::ForLoop(f) => {
                self.expr(&f.iter, false);
                self.assign(&f.target);
                if let Some(e) = &f.filter_expr {
                    self.expr(e, false);
                }
                self.body(&f.body);
                self.body(&f.else_body);
            }
            Stmt::IfCond(i) => {
                self.expr(&i.expr, false);
                self.body(&i.true_body);
                self.body(&i.false_body);
            }
            Stmt::WithBlock(w) => {
                for (target, e) in &w.assignments {
                    self.expr(e, false);
                    self.assign(target);
                }
                self.body(&w.body);
            }
            Stmt::Set(set) => {
                self.expr(&set.expr, false);
                self.assign(&set.target);
            }
            Stmt::SetBlock(set) => {
                self.assign(&set.target);
                if let Some(e) = &set.filter {
                    self.expr(e, false);
                }
                self.body(&set.body);
            }
            Stmt::AutoEscape(a) => {
                self.expr(&a.enabled, false);
                self.body(&a.body);
            }
            Stmt::FilterBlock(f) => {
                self.expr(&f.filter, false);
                self.body(&f.body);
            }
            Stmt::Block(b) => self.body(&b.body),
            Stmt::Import(i) => {
                self.expr(&i.expr, false);
                self.assign(&i.name);
            }
            Stmt::FromImport(i) => {
                self.expr(&i.expr, false);
                for (name, alias) in &i.names {
                    self.assign(alias.as_ref().unwrap_or(name));
                }
            }
            Stmt::Extends(e) => self.expr(&e.name, false),
            Stmt::Include(i) => self.expr(&i.name, false),
            Stmt::Macro(m) => {
                self.set.insert(m.name);
                self.macro_decl(m);
            }
            Stmt::CallBlock(c) => {
                self.call(&c.call);
                self.macro_decl(&c.macro_decl);
            }
            Stmt::Do(d) => self.call(&d.call),
            Stmt::EmitRaw(_) => {}
        }
    }

    fn macro_decl(&mut self, m: &'t ast::Macro<'t>) {
        for arg in &m.args {
            self.assign(arg);
        }
        for e in &m.defaults {
            self.expr(e, false);
        }
        self.body(&m.body);
    }

    fn call(&mut self, c: &'t ast::Call<'t>) {
        self.expr(&c.expr, false);
        self.args(&c.args);
    }

    fn args(&mut self, args: &'t [ast::CallArg<'t>]) {
        for a in args {
            match a {
                ast::CallArg::Pos(e)
                | ast::CallArg::Kwarg(_, e)
                | ast::CallArg::PosSplat(e)
                | ast::CallArg::KwargSplat(e) => self.expr(e, false),
            }
        }
    }

    fn assign(&mut self, target: &'t ast::Expr<'t>) {
        match target {
            ast::Expr::Var(v) => {
                self.set.insert(v.id);
            }
            ast::Expr::List(l) => l.items.iter().for_each(|e| self.assign(e)),
            ast::Expr::Tuple(t) => t.items.iter().for_each(|e| self.assign(e)),
            // `set ns.count = ...` changes an object the template made.
            _ => {}
        }
    }

    fn expr(&mut self, e: &'t ast::Expr<'t>, probe: bool) {
        use ast::Expr;
        match e {
            Expr::Var(_) | Expr::GetAttr(_) | Expr::GetItem(_) => self.lookup(e, probe),
            Expr::Const(_) => {}
            Expr::Slice(s) => {
                self.expr(&s.expr, false);
                for e in [&s.start, &s.stop, &s.step].into_iter().flatten() {
                    self.expr(e, false);
                }
            }
            Expr::UnaryOp(u) => self.expr(&u.expr, probe),
            Expr::BinOp(b) => {
                self.expr(&b.left, false);
                self.expr(&b.right, false);
            }
            Expr::Compare(c) => {
                self.expr(&c.expr, false);
                for op in &c.ops {
                    self.expr(&op.expr, false);
                }
            }
            Expr::IfExpr(i) => {
                self.expr(&i.test_expr, false);
                self.expr(&i.true_expr, false);
                if let Some(e) = &i.false_expr {
                    self.expr(e, false);
                }
            }
            Expr::Filter(f) => {
                if let Some(e) = &f.expr {
                    self.expr(e, false);
                }
                self.args(&f.args);
            }
            Expr::Test(t) => {
                self.expr(&t.expr, matches!(t.name, "defined" | "undefined"));
                self.args(&t.args);
            }
            Expr::Call(c) => {
                self.expr(&c.expr, false);
                self.args(&c.args);
            }
            Expr::List(l) => l.items.iter().for_each(|e| self.expr(e, false)),
            Expr::Tuple(t) => t.items.iter().for_each(|e| self.expr(e, false)),
            Expr::Map(m) => {
                for e in m.keys.iter().chain(&m.values) {
                    self.expr(e, false);
                }
            }
        }
    }

    /// `a.b["c"]` is the lookup `a.b.c`. Attributes of anything but a variable (a call's
    /// result, `x[i]` with a computed `i`) are not known before rendering: only the
    /// expression they are looked up on is.
    fn lookup(&mut self, e: &'t ast::Expr<'t>, probe: bool) {
        let mut attrs = Vec::new();
        let mut at = e;
        loop {
            match at {
                ast::Expr::GetAttr(g) => {
                    attrs.push(g.name);
                    at = &g.expr;
                }
                ast::Expr::GetItem(g) => {
                    if let ast::Expr::Const(c) = &g.subscript_expr
                        && let Some(key) = c.value.as_str()
                    {
                        attrs.push(key);
                        at = &g.expr;
                    } else {
                        self.expr(&g.subscript_expr, false);
                        self.expr(&g.expr, false);
                        return;
                    }
                }
                ast::Expr::Var(v) => {
                    attrs.push(v.id);
                    attrs.reverse();
                    let attrs = attrs.into_iter().map(str::to_owned).collect();
                    // An attribute's span starts at its dot: the lookup's, at the variable.
                    let (from, to) = (v.span(), e.span());
                    self.out.push(Lookup {
                        path: attrs,
                        span: Span {
                            end_line: to.end_line,
                            end_col: to.end_col,
                            end_offset: to.end_offset,
                            ..from
                        },
                        probe,
                    });
                    return;
                }
                other => {
                    self.expr(other, false);
                    return;
                }
            }
        }
    }
}
