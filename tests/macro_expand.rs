//! What `#[task]` generates, exercised at run time: the plain call through `Deref`, the name,
//! keyword arguments, `Task::call` and the registry round trip.

use parapool::backend::{registry, wire};
use parapool::{Args, Side, Task};

/// Counts the letters of `word` found in `letter` (every letter when it is empty).
#[parapool::task]
pub fn count_letters(word: String, #[kwarg] letter: String) -> usize {
    word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count()
}

#[parapool::task]
fn scaled_sum(
    a: i64,
    b: i64,
    #[kwarg(default = 2)] scale: i64,
    #[kwarg(default = "sum")] label: String,
    #[kwarg] offset: i64,
    #[kwarg(default = vec![1.5, 2.5])] mut weights: Vec<f64>,
) -> (String, i64, f64) {
    weights.push(0.0);
    (label, (a + b) * scale + offset, weights.iter().sum())
}

#[parapool::task]
fn numbers(
    #[kwarg(default = 3)] size: u64,
    #[kwarg(default = 0.5)] ratio: f32,
    #[kwarg(default = 1)] factor: f64,
    #[kwarg(default = 'x')] name: String,
    #[kwarg(default = Some(7))] limit: Option<u8>,
) -> String {
    format!("{size} {ratio} {factor} {name} {limit:?}")
}

#[parapool::task]
fn answer() -> u32 {
    42
}

static UNIT_CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

#[parapool::task]
fn record(n: usize) {
    UNIT_CALLS.fetch_add(n, std::sync::atomic::Ordering::SeqCst);
}

#[parapool::task]
#[allow(clippy::needless_pass_by_value)]
fn patterns((a, b): (u8, u8), mut acc: Vec<u32>, _: bool, #[kwarg] mut extra: u32) -> Vec<u32> {
    extra += 1;
    acc.push(u32::from(a) * u32::from(b) + extra);
    acc
}

#[parapool::task]
fn r#type(r#in: String, #[kwarg] r#loop: bool) -> String {
    if r#loop {
        r#in.repeat(2)
    } else {
        r#in
    }
}

mod nested {
    pub mod deeper {
        #[parapool::task]
        pub fn shout(text: String, #[kwarg(default = 1)] times: usize) -> String {
            text.to_uppercase().repeat(times)
        }
    }
}

mod reexport {
    pub use parapool as pp;
}

#[parapool::task(crate = "crate::reexport::pp")]
fn via_reexport(x: u32) -> u32 {
    x + 1
}

#[cfg(any())]
#[parapool::task]
fn compiled_out(x: NoSuchType) -> NoSuchType {
    x
}

/// Encodes `args` and `kwargs`, runs the registered task `T` by name and decodes its output.
fn run_by_name<T: Task>(args: &Args<'_, T>, kwargs: &T::Kwargs<'_>) -> T::Output {
    let entry = registry::lookup(T::NAME).expect("task registered");
    assert_eq!(entry.name(), T::NAME);
    let calls = wire::encode_calls::<T>(kwargs, [args]).unwrap();
    let outcomes = entry.run_batch(&calls.kwargs, calls.calls, &calls.args);
    wire::Reader::new(&outcomes).outcome::<T::Output>(T::NAME).unwrap()
}

#[test]
fn plain_call_through_deref() {
    assert_eq!(count_letters("hall".into(), "l".into()), 2);
    assert_eq!(count_letters("hall".into(), String::new()), 4);
    assert_eq!(scaled_sum(1, 2, 3, "x".into(), 1, vec![]), ("x".to_string(), 10, 0.0));
    assert_eq!(answer(), 42);
    assert_eq!(nested::deeper::shout("hi".into(), 2), "HIHI");
    assert_eq!(r#type("ab".into(), true), "abab");
    assert_eq!(via_reexport(1), 2);
    // The handle also coerces to the function pointer explicitly.
    let f: fn(String, String) -> usize = *count_letters;
    assert_eq!(f("aaa".into(), "a".into()), 3);
}

#[test]
fn handle_is_a_zero_sized_copy_value() {
    assert_eq!(std::mem::size_of::<count_letters>(), 0);
    let handle = count_letters;
    let copy = handle;
    assert_eq!(handle("ab".into(), String::new()), copy("ab".into(), String::new()));
    assert_eq!(format!("{count_letters:?}"), "count_letters");
    let default = <count_letters as Default>::default();
    assert_eq!(default("abc".into(), "c".into()), 1);
}

#[test]
fn names_are_module_path_and_fn_name() {
    let module = module_path!();
    assert_eq!(<count_letters as Task>::NAME, format!("{module}::count_letters"));
    assert_eq!(<answer as Task>::NAME, format!("{module}::answer"));
    assert_eq!(<r#type as Task>::NAME, format!("{module}::type"));
    assert_eq!(<nested::deeper::shout as Task>::NAME, format!("{module}::nested::deeper::shout"));
    assert_eq!(<via_reexport as Task>::NAME, format!("{module}::via_reexport"));
}

#[test]
fn kwargs_defaults() {
    let defaults = count_letters::kwargs();
    assert_eq!(defaults.letter, "");

    let defaults = scaled_sum::kwargs();
    assert_eq!(defaults.scale, 2);
    assert_eq!(defaults.label, "sum");
    assert_eq!(defaults.offset, 0);
    assert_eq!(defaults.weights, vec![1.5, 2.5]);

    assert_eq!(nested::deeper::shout::kwargs().times, 1);
    assert!(!r#type::kwargs().r#loop);
    assert_eq!(patterns::kwargs().extra, 0);

    // `Default` and `From<()>` agree with `kwargs()`.
    let from_default = ScaledSumKwargs::default();
    let from_unit = ScaledSumKwargs::from(());
    assert_eq!(format!("{from_default:?}"), format!("{:?}", scaled_sum::kwargs()));
    assert_eq!(format!("{from_unit:?}"), format!("{:?}", scaled_sum::kwargs()));
}

#[test]
fn kwargs_literal_defaults_and_setters_infer_the_field_type() {
    let defaults = numbers::kwargs();
    assert_eq!((defaults.size, defaults.ratio, defaults.factor), (3, 0.5, 1.0));
    assert_eq!((defaults.name.as_str(), defaults.limit), ("x", Some(7)));
    assert_eq!(numbers::call((), defaults), "3 0.5 1 x Some(7)");
    // Unsuffixed literals work for every numeric field type.
    let set = numbers::kwargs().size(10).ratio(0.25).factor(2).name('y').limit(None);
    assert_eq!(numbers::call((), set), "10 0.25 2 y None");
    assert_eq!(numbers(1, 1.5, 2.5, "z".into(), Some(1)), "1 1.5 2.5 z Some(1)");
}

#[test]
fn kwargs_setters() {
    let kwargs = scaled_sum::kwargs().scale(10).label("total").offset(-3).weights(vec![0.5]);
    assert_eq!(kwargs.scale, 10);
    assert_eq!(kwargs.label, "total");
    assert_eq!(kwargs.offset, -3);
    assert_eq!(kwargs.weights, vec![0.5]);
    // Setters only change their own field.
    let kwargs = scaled_sum::kwargs().label(String::from("only"));
    assert_eq!((kwargs.scale, kwargs.label.as_str(), kwargs.offset), (2, "only", 0));

    assert_eq!(count_letters::kwargs().letter("e").letter, "e");
    assert!(r#type::kwargs().r#loop(true).r#loop);
}

#[test]
fn task_call_unpacks_args_and_kwargs() {
    assert_eq!(count_letters::call(("entry".into(),), count_letters::kwargs().letter("e")), 1);
    assert_eq!(count_letters::call(("entry".into(),), ().into()), 5);
    assert_eq!(scaled_sum::call((1, 2), scaled_sum::kwargs()), ("sum".to_string(), 6, 4.0));
    assert_eq!(scaled_sum::call((1, 2), scaled_sum::kwargs().scale(1).offset(4)), ("sum".to_string(), 7, 4.0));
    assert_eq!(answer::call((), ()), 42);
    assert_eq!(via_reexport::call((41,), ()), 42);
}

#[test]
fn zero_argument_task() {
    let _: Args<'static, answer> = ();
    let _: <answer as Task>::Kwargs<'static> = ();
    assert_eq!(run_by_name::<answer>(&(), &()), 42);
}

#[test]
fn unit_return_task() {
    let before = UNIT_CALLS.load(std::sync::atomic::Ordering::SeqCst);
    // The output type is `()`: this only compiles if `record` returns the task's Output.
    let as_output: fn(usize) -> <record as Task>::Output = *record;
    let _: fn(usize) -> () = as_output;
    as_output(3);
    record::call((4,), ());
    run_by_name::<record>(&(5,), &());
    let after = UNIT_CALLS.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(after - before, 12);
}

#[test]
fn pattern_params() {
    assert_eq!(patterns((2, 3), vec![1], true, 0), vec![1, 7]);
    assert_eq!(patterns::call(((2, 3), vec![], false), patterns::kwargs().extra(10)), vec![17]);
    assert_eq!(run_by_name::<patterns>(&((4, 5), vec![9], true), &patterns::kwargs()), vec![9, 21]);
}

#[test]
fn registry_lookup_and_run_batch_round_trip() {
    assert_eq!(run_by_name::<count_letters>(&("hello".into(),), &count_letters::kwargs().letter("l")), 2);
    assert_eq!(run_by_name::<count_letters>(&("hello".into(),), &().into()), 5);
    assert_eq!(
        run_by_name::<scaled_sum>(&(2, 3), &scaled_sum::kwargs().label("s").weights(vec![1.0])),
        ("s".to_string(), 10, 1.0)
    );
    assert_eq!(run_by_name::<nested::deeper::shout>(&("ab".into(),), &nested::deeper::shout::kwargs()), "AB");
    assert_eq!(run_by_name::<r#type>(&("x".into(),), &r#type::kwargs().r#loop(true)), "xx");
    assert_eq!(run_by_name::<via_reexport>(&(1,), &()), 2);

    let names = registry::names();
    for name in [<count_letters as Task>::NAME, <scaled_sum as Task>::NAME, <record as Task>::NAME] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    assert!(!names.iter().any(|name| name.ends_with("::compiled_out")));
}

#[test]
fn kwargs_serialize_with_every_field() {
    let kwargs = scaled_sum::kwargs().scale(7).label("l").offset(1).weights(vec![]);
    let bytes = registry::encode("t", Side::Args, &kwargs).unwrap();
    let back: ScaledSumKwargs = registry::decode("t", Side::Args, &bytes).unwrap();
    assert_eq!(format!("{back:?}"), format!("{kwargs:?}"));
}

#[test]
fn task_with_binds_kwargs() {
    let call = count_letters.with(count_letters::kwargs().letter("l"));
    assert_eq!(call.kwargs().letter, "l");
    let call = count_letters.with(());
    assert_eq!(call.kwargs().letter, "");
}

#[test]
fn task_defined_in_a_function_body() {
    #[parapool::task]
    fn triple_local(x: u32, #[kwarg(default = 1)] plus: u32) -> u32 {
        3 * x + plus
    }
    assert_eq!(triple_local(2, 0), 6);
    assert_eq!(triple_local::call((2,), triple_local::kwargs()), 7);
    assert_eq!(<triple_local as Task>::NAME, concat!(module_path!(), "::triple_local"));
    assert_eq!(run_by_name::<triple_local>(&(5,), &triple_local::kwargs().plus(5)), 20);
}
