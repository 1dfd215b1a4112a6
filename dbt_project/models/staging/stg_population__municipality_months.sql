{#-
    Residents aged 16-66 per municipality and month (`raw.population`), the reference input
    for per-capita rates. A month may be missing: rates are then null, never guessed.
-#}
with

source as (

    {{ source_or_empty('raw', 'population', {
        'month': 'date',
        'kommunekode': 'integer',
        'population': 'bigint',
    }) }}

),

renamed as (

    select
        month,
        kommunekode as municipality_code,
        population as population_16_66,

    from source

)

select * from renamed
