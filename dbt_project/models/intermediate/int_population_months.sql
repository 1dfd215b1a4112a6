{#-
    Residents aged 16-66 per municipality and month, the denominator of every per-capita rate.
    From Statistics Denmark (FOLK1A, latest vintage) when delivered: the population on the
    first day of a quarter is carried to the quarter's three months [ours]. Otherwise from
    the population file in the landing folder (raw.population). A month without either has no
    row: its rates are null, never guessed.
-#}
with

statbank as (

    select * from {{ ref('stg_external__observations') }}
    where
        table_kind = 'population'
        and is_latest_vintage
        and area_type = 'municipality'
        and measure = 'population_16_66'
        and value is not null

),

landing_file as (

    select * from {{ ref('stg_population__municipality_months') }}

),

statbank_months as (

    select
        cast(months.month as date) as month,
        statbank.municipality_code,
        statbank.value as population_16_66,
        'statbank' as population_source,

    from statbank
    cross join
        generate_series(statbank.period_start, statbank.period_end, interval 1 month)
            as months (month)

),

combined as (

    select * from statbank_months
    union all
    select
        landing_file.month,
        landing_file.municipality_code,
        landing_file.population_16_66,
        'landing_file' as population_source,
    from landing_file
    anti join statbank_months
        on
            landing_file.month = statbank_months.month
            and landing_file.municipality_code = statbank_months.municipality_code

)

select * from combined
