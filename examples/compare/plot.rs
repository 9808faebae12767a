//! The SVG plots, drawn with `plotters`: speedup against task size (break-even points ringed) and
//! speedup against the worker count.

use std::path::Path;

use plotters::prelude::*;

use crate::granularity::{break_even, is_sequential, AtSize};
use crate::scaling::AtWorkers;
use crate::workload::size_label;

/// One colour per contender, in table order.
const COLORS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

type Drawn = Result<(), Box<dyn std::error::Error>>;

/// Speedup over the plain loop against task size, one line per contender, log–log.
pub fn speedup_by_task_size(path: &Path, workers: usize, results: &[AtSize]) -> Drawn {
    let root = SVGBackend::new(path, (880, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let (root, legend) = root.split_horizontally(620);
    let all = results.iter().flat_map(|at| at.speedups.iter().map(|(_, q)| q[1]));
    let (low, high) = all.fold((1.0f64, 1.0f64), |(lo, hi), x| (lo.min(x), hi.max(x)));
    let x_range = (results[0].size.as_secs_f64() / 2.0)..(results[results.len() - 1].size.as_secs_f64() * 2.0);
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("Speedup over the plain loop by task size, {workers} workers"), ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(x_range.log_scale(), ((low / 1.5)..(high * 1.5)).log_scale())?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 16))
        .x_desc("CPU work per task")
        .y_desc("speedup (plain loop's time / contender's)")
        .x_label_formatter(&|x| size_label(std::time::Duration::from_secs_f64(*x)))
        .y_label_formatter(&|y| format!("{y:.2}x"))
        .draw()?;
    let x_ends = [results[0].size.as_secs_f64() / 2.0, results[results.len() - 1].size.as_secs_f64() * 2.0];
    chart.draw_series(DashedLineSeries::new(x_ends.map(|x| (x, 1.0)), 6, 4, BLACK.stroke_width(1)))?;
    let mut entries = vec![(BLACK, "1x: as fast as the loop".to_string()), (BLACK, "ringed: break-even".to_string())];
    for (index, (name, _)) in results[0].speedups.iter().enumerate() {
        let color = COLORS[index % COLORS.len()];
        let points: Vec<(f64, f64)> =
            results.iter().map(|at| (at.size.as_secs_f64(), at.speedups[index].1[1])).collect();
        chart.draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?;
        entries.push((color, name.clone()));
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
        if let Some(size) = break_even(results, name).filter(|_| !is_sequential(name)) {
            let at = results.iter().position(|at| at.size == size).expect("a measured size");
            chart.draw_series(std::iter::once(Circle::new(points[at], 8, color.stroke_width(2))))?;
        }
    }
    draw_legend(&legend, &entries)?;
    root.present()?;
    Ok(())
}

/// Speedup over the plain loop against the worker count; the core count marked.
pub fn scaling(path: &Path, cores: usize, results: &[AtWorkers]) -> Drawn {
    let root = SVGBackend::new(path, (880, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let (root, legend) = root.split_horizontally(620);
    let most = results.last().map_or(1, |at| at.workers) as f64;
    let high = results.iter().flat_map(|at| at.speedups.iter().map(|(_, q)| q[1])).fold(cores as f64, f64::max);
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("Scaling: tasks of 100 µs, {cores} cores"), ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(0.5f64..most + 0.5, 0.0f64..high * 1.15)?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 16))
        .x_labels(most as usize + 1)
        .x_desc("workers")
        .y_desc("speedup over the plain loop")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.1}x"))
        .draw()?;
    chart.draw_series(DashedLineSeries::new(
        [(cores as f64, 0.0), (cores as f64, high * 1.15)],
        6,
        4,
        BLACK.stroke_width(1),
    ))?;
    let mut entries = vec![(BLACK, format!("{cores} workers: one per core"))];
    for (index, (name, _)) in results[0].speedups.iter().enumerate() {
        let color = COLORS[index % COLORS.len()];
        let points: Vec<(f64, f64)> = results.iter().map(|at| (at.workers as f64, at.speedups[index].1[1])).collect();
        chart.draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?;
        entries.push((color, name.clone()));
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
    }
    draw_legend(&legend, &entries)?;
    root.present()?;
    Ok(())
}

/// The legend, beside the plot (never over the data): a line of each colour and its name.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    entries: &[(RGBColor, String)],
) -> Drawn
where
    DB::ErrorType: 'static,
{
    for (index, (color, name)) in entries.iter().enumerate() {
        let y = 60 + 26 * index as i32;
        if name.starts_with("ringed") {
            area.draw(&Circle::new((22, y), 8, color.stroke_width(2)))?;
        } else if *color == BLACK {
            // The dashed reference line.
            for x in [8, 20, 32] {
                area.draw(&PathElement::new(vec![(x, y), (x + 6, y)], color.stroke_width(1)))?;
            }
        } else {
            area.draw(&PathElement::new(vec![(8, y), (36, y)], color.stroke_width(2)))?;
        }
        area.draw(&Text::new(name.as_str(), (44, y - 8), ("sans-serif", 16)))?;
    }
    Ok(())
}
