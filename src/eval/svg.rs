//! Hand-written SVG charts: lines (Pd vs SJNR, ROC), grouped bars (Pd per jammer type) and
//! a heat-map table (confusion matrix). No dependencies; every chart is self-contained.

use std::fmt::Write;

const W: f64 = 640.0;
const H: f64 = 400.0;
const L: f64 = 64.0;
const R: f64 = 150.0;
const T: f64 = 36.0;
const B: f64 = 56.0;
const COLORS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn header(title: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{}</text>\n",
        (L + W - R) / 2.0,
        esc(title)
    )
}

/// A named line: (x, y) points, `None` breaks the line.
pub type Series = (String, Vec<(f64, Option<f64>)>);

/// Axis scale.
#[derive(Clone, Copy)]
pub enum Scale {
    /// Linear from lo to hi.
    Lin(f64, f64),
    /// log10 from lo to hi (both > 0).
    Log(f64, f64),
}

impl Scale {
    fn frac(self, v: f64) -> f64 {
        match self {
            Scale::Lin(a, b) => (v - a) / (b - a),
            Scale::Log(a, b) => (v.max(a).log10() - a.log10()) / (b.log10() - a.log10()),
        }
    }
    fn ticks(self) -> Vec<f64> {
        match self {
            Scale::Lin(a, b) => (0..=5).map(|i| a + (b - a) * i as f64 / 5.0).collect(),
            Scale::Log(a, b) => {
                let mut v = Vec::new();
                let mut e = a.log10().ceil() as i32;
                while 10f64.powi(e) <= b * 1.0001 {
                    v.push(10f64.powi(e));
                    e += 1;
                }
                v
            }
        }
    }
}

fn axes(s: &mut String, xs: Scale, ys: Scale, xl: &str, yl: &str) {
    let (x0, x1, y0, y1) = (L, W - R, H - B, T);
    let _ = writeln!(
        s,
        "<rect x=\"{x0}\" y=\"{y1}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#333\"/>",
        x1 - x0,
        y0 - y1
    );
    for t in xs.ticks() {
        let x = x0 + xs.frac(t) * (x1 - x0);
        let _ = writeln!(
            s,
            "<line x1=\"{x:.1}\" y1=\"{y1}\" x2=\"{x:.1}\" y2=\"{y0}\" stroke=\"#ddd\"/><text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            y0 + 16.0,
            fmt_tick(t)
        );
    }
    for t in ys.ticks() {
        let y = y0 - ys.frac(t) * (y0 - y1);
        let _ = writeln!(
            s,
            "<line x1=\"{x0}\" y1=\"{y:.1}\" x2=\"{x1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            x0 - 6.0,
            y + 4.0,
            fmt_tick(t)
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
        (x0 + x1) / 2.0,
        H - 14.0,
        esc(xl)
    );
    let _ = writeln!(
        s,
        "<text x=\"16\" y=\"{}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {})\">{}</text>",
        (y0 + y1) / 2.0,
        (y0 + y1) / 2.0,
        esc(yl)
    );
}

fn fmt_tick(t: f64) -> String {
    if t != 0.0 && (t.abs() < 0.01 || t.abs() >= 1e4) {
        format!("{t:.0e}")
    } else if (t - t.round()).abs() < 1e-9 {
        format!("{}", t.round())
    } else {
        format!("{t:.2}")
    }
}

fn legend(s: &mut String, names: &[String]) {
    for (i, n) in names.iter().enumerate() {
        let y = T + 14.0 + 18.0 * i as f64;
        let x = W - R + 12.0;
        let _ = writeln!(
            s,
            "<rect x=\"{x}\" y=\"{}\" width=\"14\" height=\"4\" fill=\"{}\"/><text x=\"{}\" y=\"{}\">{}</text>",
            y - 4.0,
            COLORS[i % COLORS.len()],
            x + 20.0,
            y + 2.0,
            esc(n)
        );
    }
}

/// A line chart: one polyline (with dots) per series; `None` values break the line.
pub fn lines(
    title: &str,
    xl: &str,
    yl: &str,
    xs: Scale,
    ys: Scale,
    series: &[Series],
    dots: bool,
) -> String {
    let mut s = header(title);
    axes(&mut s, xs, ys, xl, yl);
    for (i, (_, pts)) in series.iter().enumerate() {
        let c = COLORS[i % COLORS.len()];
        let mut seg: Vec<String> = Vec::new();
        let flush = |seg: &mut Vec<String>, s: &mut String| {
            if seg.len() > 1 {
                let _ = writeln!(
                    s,
                    "<polyline fill=\"none\" stroke=\"{c}\" stroke-width=\"2\" points=\"{}\"/>",
                    seg.join(" ")
                );
            }
            seg.clear();
        };
        for &(x, y) in pts {
            match y {
                Some(y) => {
                    let px = L + xs.frac(x).clamp(0.0, 1.0) * (W - R - L);
                    let py = H - B - ys.frac(y).clamp(0.0, 1.0) * (H - B - T);
                    seg.push(format!("{px:.1},{py:.1}"));
                    if dots {
                        let _ = writeln!(
                            s,
                            "<circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"3\" fill=\"{c}\"/>"
                        );
                    }
                }
                None => flush(&mut seg, &mut s),
            }
        }
        flush(&mut seg, &mut s);
    }
    legend(
        &mut s,
        &series.iter().map(|x| x.0.clone()).collect::<Vec<_>>(),
    );
    s.push_str("</svg>\n");
    s
}

/// Grouped bars: one group per category, one bar per series, values 0..1.
pub fn bars(
    title: &str,
    yl: &str,
    cats: &[String],
    series: &[(String, Vec<Option<f64>>)],
) -> String {
    let mut s = header(title);
    let ys = Scale::Lin(0.0, 1.0);
    axes(&mut s, Scale::Lin(0.0, 1.0), ys, "", yl);
    // Replace the x ticks with category labels: draw over the bottom band.
    let _ = writeln!(
        s,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"22\" fill=\"white\"/>",
        L - 20.0,
        H - B + 2.0,
        W - R - L + 40.0
    );
    let gw = (W - R - L) / cats.len().max(1) as f64;
    let bw = gw * 0.8 / series.len().max(1) as f64;
    for (ci, c) in cats.iter().enumerate() {
        let gx = L + gw * ci as f64 + gw * 0.1;
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" font-size=\"10\">{}</text>",
            gx + gw * 0.4,
            H - B + 14.0,
            esc(c)
        );
        for (si, (_, v)) in series.iter().enumerate() {
            if let Some(Some(y)) = v.get(ci) {
                let h = y.clamp(0.0, 1.0) * (H - B - T);
                let _ = writeln!(
                    s,
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"{}\"/>",
                    gx + bw * si as f64,
                    H - B - h,
                    bw * 0.95,
                    COLORS[si % COLORS.len()]
                );
            }
        }
    }
    legend(
        &mut s,
        &series.iter().map(|x| x.0.clone()).collect::<Vec<_>>(),
    );
    s.push_str("</svg>\n");
    s
}

/// Confusion matrix as a table of shaded cells (rows: truth, columns: prediction).
pub fn confusion(title: &str, classes: &[String], m: &[Vec<u64>]) -> String {
    let n = classes.len();
    let cell = 44.0;
    let (x0, y0) = (120.0, 110.0);
    let w = x0 + cell * n as f64 + 20.0;
    let h = y0 + cell * n as f64 + 30.0;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{}\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">{}</text>\n",
        w / 2.0,
        esc(title)
    );
    for (i, c) in classes.iter().enumerate() {
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            x0 - 6.0,
            y0 + cell * i as f64 + cell / 2.0 + 4.0,
            esc(c)
        );
        let cx = x0 + cell * i as f64 + cell / 2.0;
        let _ = writeln!(
            s,
            "<text x=\"{cx:.1}\" y=\"{}\" text-anchor=\"start\" transform=\"rotate(-45 {cx:.1} {})\">{}</text>",
            y0 - 6.0,
            y0 - 6.0,
            esc(c)
        );
    }
    for (i, row) in m.iter().enumerate().take(n) {
        let tot: u64 = row.iter().sum();
        for (j, v) in row.iter().enumerate().take(n) {
            let f = if tot > 0 { *v as f64 / tot as f64 } else { 0.0 };
            let shade = (255.0 * (1.0 - f)).round() as u8;
            let _ = writeln!(
                s,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{cell}\" height=\"{cell}\" fill=\"rgb({shade},{shade},255)\" stroke=\"#999\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{}\">{}</text>",
                x0 + cell * j as f64,
                y0 + cell * i as f64,
                x0 + cell * j as f64 + cell / 2.0,
                y0 + cell * i as f64 + cell / 2.0 + 4.0,
                if f > 0.6 { "white" } else { "black" },
                v
            );
        }
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_well_formed_and_escape_text() {
        let l = lines(
            "Pd <vs> SJNR",
            "x",
            "y",
            Scale::Lin(0.0, 30.0),
            Scale::Lin(0.0, 1.0),
            &[(
                "a&b".into(),
                vec![
                    (0.0, Some(0.1)),
                    (5.0, None),
                    (10.0, Some(0.9)),
                    (15.0, Some(1.0)),
                ],
            )],
            true,
        );
        assert!(l.starts_with("<svg") && l.ends_with("</svg>\n"));
        assert!(l.contains("Pd &lt;vs&gt; SJNR") && l.contains("a&amp;b"));
        // The None breaks the line: one polyline of 2 points, the lone point has no line.
        assert_eq!(l.matches("<polyline").count(), 1);
        let b = bars(
            "t",
            "Pd",
            &["x".into(), "y".into()],
            &[("d".into(), vec![Some(0.5), None])],
        );
        assert_eq!(b.matches("fill=\"#1f77b4\"").count(), 2); // one bar + legend
        let c = confusion("c", &["a".into(), "b".into()], &[vec![3, 1], vec![0, 4]]);
        assert_eq!(c.matches("<rect x=").count(), 4);
        let r = lines(
            "roc",
            "Pfa",
            "Pd",
            Scale::Log(1e-4, 1.0),
            Scale::Lin(0.0, 1.0),
            &[],
            false,
        );
        assert!(r.contains(">1e-4<") || r.contains(">1e-4"), "{r}");
    }
}
