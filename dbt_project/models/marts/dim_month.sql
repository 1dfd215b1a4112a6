{#-
    One row per calendar month from the first month of history (macro history_start, written
    by the pipeline from lmkpi.settings.HISTORY_START) to var calendar_end (inclusive), with
    the jobindsats period code (`2019M10`) and the month's length in days.
-#}
with

months as (

    select cast(month as date) as month
    from generate_series(
        {{ history_start() }},
        date '{{ var("calendar_end") }}',
        interval 1 month
    ) as months (month)

),

final as (

    select
        month,
        cast(last_day(month) as date) as month_end_date,
        cast(day(last_day(month)) as integer) as days_in_month,
        cast(year(month) as integer) as year,
        cast(quarter(month) as integer) as quarter,
        cast(month(month) as integer) as month_number,
        cast(strftime(month, '%Y-%m') as varchar) as month_label,
        cast(strftime(month, '%YM%m') as varchar) as period_code,

    from months

)

select * from final
