{#-
    The national view as the ministry publishes it (docs/domain.md §4): all municipalities and the
    country for the var joblog_published_months (12) most recent months, lagging var
    joblog_publication_lag_months (3) behind the latest month with Jobloggen data, as STAR
    publishes with about a three-month lag. Set the lag var to 0 to see our own latest 12
    months. Rebuilt in full each run from fct_joblog_benchmark.
-#}
with

benchmark as (

    select * from {{ ref('fct_joblog_benchmark') }}

),

latest as (

    select max(month) as latest_month from benchmark

),

published_window as (

    select
        latest_month,
        cast(latest_month - interval {{ var('joblog_publication_lag_months') | int }} month as date)
            as last_published_month,
        {%- set months_back = var('joblog_publication_lag_months') | int
            + var('joblog_published_months') | int - 1 %}
        cast(latest_month - interval {{ months_back }} month as date) as first_published_month,
    from latest

),

final as (

    select
        benchmark.*,
        cast(published_window.latest_month as date) as latest_data_month,
        cast({{ var('joblog_publication_lag_months') | int }} as integer) as reporting_lag_months,

    from benchmark
    cross join published_window
    where
        benchmark.month between published_window.first_published_month
        and published_window.last_published_month

)

-- final selects benchmark.*: the columns of fct_joblog_benchmark (listed in the contract)
select * from final  -- noqa: AM04
