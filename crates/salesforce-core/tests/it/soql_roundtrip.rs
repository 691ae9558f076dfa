//! Printer/parser round trip on generated syntax trees: printing any tree the parser can produce
//! and parsing the text back gives an equal tree, and the text survives a second round unchanged.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};
use proptest::prelude::*;
use salesforce_core::soql::{
    Aggregate, AggregateFunction, ComparisonOperator, Condition, FieldPath, Identifier, NullsOrder,
    Number, Operand, OrderBy, Query, RelativeDate, SelectItem, SoqlString, SortDirection,
    StringPart, Value, parse,
};

fn name() -> impl Strategy<Value = Identifier> {
    prop_oneof![
        "[A-Z][a-zA-Z0-9]{0,6}",
        "[A-Z][a-z0-9]{0,5}__c",
        "[a-z]{2,4}__[A-Z][a-z]{0,5}__[cr]",
        Just("Group".to_owned()),
    ]
    .prop_filter_map("not a valid name", |s| Identifier::new(&s).ok())
}

fn path() -> impl Strategy<Value = FieldPath> {
    prop::collection::vec(name(), 1..=4).prop_filter_map("invalid path", |segments| {
        FieldPath::from_segments(segments).ok()
    })
}

fn soql_string(like: bool) -> impl Strategy<Value = SoqlString> {
    let part = prop_oneof![
        4 => any::<String>().prop_map(StringPart::Text),
        1 => Just(StringPart::EscapedPercent),
        1 => Just(StringPart::EscapedUnderscore),
    ];
    prop::collection::vec(part, 0..4).prop_map(move |parts| {
        let parts = parts
            .into_iter()
            .filter(|p| like || matches!(p, StringPart::Text(_)));
        SoqlString::from_parts(parts)
    })
}

fn datetime() -> impl Strategy<Value = DateTime<FixedOffset>> {
    (
        // Years 0001 to 9998 in UTC, so every offset keeps a four-digit year.
        -62_135_596_800i64 + 86_400..253_370_764_800 - 86_400,
        0u32..1_000,
        -14 * 4i32..=14 * 4,
    )
        .prop_filter_map("unrepresentable", |(secs, millis, quarter_hours)| {
            let offset = FixedOffset::east_opt(quarter_hours * 15 * 60)?;
            offset.timestamp_opt(secs, millis * 1_000_000).single()
        })
}

fn relative_date() -> impl Strategy<Value = RelativeDate> {
    prop_oneof![
        Just(RelativeDate::Today),
        Just(RelativeDate::Yesterday),
        Just(RelativeDate::NextWeek),
        Just(RelativeDate::LastQuarter),
        Just(RelativeDate::ThisYear),
        Just(RelativeDate::Last90Days),
        any::<u32>().prop_map(RelativeDate::LastNDays),
        any::<u32>().prop_map(RelativeDate::NextNDays),
        any::<u32>().prop_map(RelativeDate::LastNMonths),
        any::<u32>().prop_map(RelativeDate::NextNYears),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        soql_string(false).prop_map(Value::String),
        any::<i64>().prop_map(|n| Value::Number(Number::from_i64(n))),
        (-1e12f64..1e12).prop_filter_map("non-finite", |f| Number::from_f64(f)
            .ok()
            .map(Value::Number)),
        "-?[0-9]{1,5}\\.[0-9]{1,4}"
            .prop_map(|s| Value::Number(Number::parse(&s).unwrap_or_else(|_| Number::from_i64(0)))),
        any::<bool>().prop_map(Value::Boolean),
        Just(Value::Null),
        // SOQL dates have four-digit years.
        (1i32..3_652_000).prop_filter_map("no such day", |d| {
            NaiveDate::from_num_days_from_ce_opt(d).map(Value::Date)
        }),
        datetime().prop_map(Value::DateTime),
        relative_date().prop_map(Value::DateLiteral),
    ]
}

fn aggregate() -> impl Strategy<Value = Aggregate> {
    (
        prop_oneof![
            Just(AggregateFunction::Count),
            Just(AggregateFunction::CountDistinct),
            Just(AggregateFunction::Sum),
            Just(AggregateFunction::Avg),
            Just(AggregateFunction::Min),
            Just(AggregateFunction::Max),
        ],
        path(),
    )
        .prop_map(|(function, field)| Aggregate { function, field })
}

fn leaf(having: bool) -> impl Strategy<Value = Condition> {
    let operand = if having {
        prop_oneof![
            path().prop_map(Operand::Field),
            aggregate().prop_map(Operand::Aggregate)
        ]
        .boxed()
    } else {
        path().prop_map(Operand::Field).boxed()
    };
    let op = prop_oneof![
        Just(ComparisonOperator::Eq),
        Just(ComparisonOperator::Ne),
        Just(ComparisonOperator::Lt),
        Just(ComparisonOperator::Le),
        Just(ComparisonOperator::Gt),
        Just(ComparisonOperator::Ge),
    ];
    prop_oneof![
        (operand.clone(), op, value()).prop_map(|(field, op, value)| Condition::Compare {
            field,
            op,
            value
        }),
        (operand, soql_string(true)).prop_map(|(field, pattern)| Condition::Compare {
            field,
            op: ComparisonOperator::Like,
            value: Value::String(pattern),
        }),
        (path(), prop::collection::vec(value(), 1..4), any::<bool>()).prop_map(
            |(field, values, negated)| Condition::In {
                field,
                values,
                negated
            }
        ),
        (path(), prop::collection::vec(soql_string(false), 1..3))
            .prop_map(|(field, values)| Condition::Includes { field, values }),
        (path(), prop::collection::vec(soql_string(false), 1..3))
            .prop_map(|(field, values)| Condition::Excludes { field, values }),
    ]
}

fn condition(having: bool) -> impl Strategy<Value = Condition> {
    leaf(having).prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Condition::And),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Condition::Or),
            inner.prop_map(|c| Condition::Not(Box::new(c))),
        ]
    })
}

fn order_by() -> impl Strategy<Value = OrderBy> {
    (
        prop_oneof![
            path().prop_map(Operand::Field),
            aggregate().prop_map(Operand::Aggregate)
        ],
        prop::option::of(prop_oneof![
            Just(SortDirection::Asc),
            Just(SortDirection::Desc)
        ]),
        prop::option::of(prop_oneof![Just(NullsOrder::First), Just(NullsOrder::Last)]),
    )
        .prop_map(|(key, direction, nulls)| OrderBy {
            key,
            direction,
            nulls,
        })
}

fn select_item() -> impl Strategy<Value = SelectItem> {
    prop_oneof![
        3 => path().prop_map(SelectItem::Field),
        1 => (aggregate(), prop::option::of(name()))
            .prop_map(|(aggregate, alias)| SelectItem::Aggregate { aggregate, alias }),
    ]
}

fn query_with(select: impl Strategy<Value = Vec<SelectItem>>) -> impl Strategy<Value = Query> {
    (
        select,
        name(),
        prop::option::of(name()),
        prop::option::of(condition(false)),
        prop::collection::vec(path(), 0..3),
        prop::option::of(condition(true)),
        prop::collection::vec(order_by(), 0..3),
        prop::option::of(any::<u64>()),
        prop::option::of(0u64..=2000),
    )
        .prop_map(
            |(select, object, alias, where_, group_by, having, order_by, limit, offset)| {
                let mut q = Query::new(select, object);
                q.from.alias = alias;
                q.where_ = where_;
                q.group_by = group_by;
                q.having = having;
                q.order_by = order_by;
                q.limit = limit;
                q.offset = offset;
                q
            },
        )
}

fn query() -> impl Strategy<Value = Query> {
    let subquery = query_with(prop::collection::vec(select_item(), 1..3))
        .prop_map(|q| SelectItem::Subquery(Box::new(q)));
    let items = prop::collection::vec(prop_oneof![4 => select_item(), 1 => subquery], 1..4);
    prop_oneof![
        9 => query_with(items),
        1 => query_with(Just(vec![SelectItem::CountAll])),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn printed_queries_parse_back_to_the_same_tree(q in query()) {
        let text = q.to_string();
        let reparsed = parse(&text);
        prop_assert_eq!(reparsed.as_ref(), Ok(&q), "text: {}", text);
        prop_assert_eq!(reparsed.map(|r| r.to_string()), Ok(text));
    }
}

#[test]
fn injection_attempts_stay_inside_the_literal() {
    for hostile in [
        "' OR Name != '",
        "\\' OR Name != \\'",
        "x') OR (Name != 'y",
        "%' OR Id != null OR Name LIKE '%",
        "\\",
        "\n'; SELECT Id FROM User --",
    ] {
        let mut q = Query::new(
            vec![SelectItem::Field(FieldPath::new("Id").unwrap())],
            Identifier::new("Lead").unwrap(),
        );
        q.where_ = Some(Condition::Compare {
            field: Operand::Field(FieldPath::new("Name").unwrap()),
            op: ComparisonOperator::Like,
            value: Value::String(SoqlString::contains(hostile)),
        });
        let reparsed = parse(&q.to_string()).unwrap();
        assert_eq!(reparsed, q, "{hostile:?}");
        let Some(Condition::Compare {
            value: Value::String(s),
            ..
        }) = reparsed.where_
        else {
            panic!("shape changed for {hostile:?}");
        };
        assert!(
            s.to_like_pattern()
                .matches(&format!("prefix {hostile} suffix"))
        );
        assert!(!s.to_like_pattern().matches("prefix suffix"));
    }
}
