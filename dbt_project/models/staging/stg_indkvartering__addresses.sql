{#-
    The `indkvartering` extract (temporary housing for refugees) renamed and cast: one row per
    address (as the housing staff spell it) per reporting month. Contract default applied:
    moved to permanent housing 0.
-#}
with

source as (

    {{ source_or_empty('raw', 'indkvartering', {
        'month': 'date',
        'load_id': 'varchar',
        'line_number': 'bigint',
        'kommunekode': 'integer',
        'adresse': 'varchar',
        'vaerelser': 'bigint',
        'ledige_vaerelser': 'bigint',
        'indkvarterede': 'bigint',
        'husstande': 'bigint',
        'flyttet_permanent': 'bigint',
        'restance_personer': 'bigint',
        'restance_kr': 'double',
    }) }}

),

renamed as (

    select
        month as report_month,
        load_id,
        line_number,
        kommunekode as municipality_code,
        adresse as address_as_delivered,
        vaerelser as rooms,
        ledige_vaerelser as vacant_rooms,
        indkvarterede as housed,
        husstande as households,
        restance_personer as rent_arrears_persons,
        -- money is exact: kroner and øre as a decimal, never a binary float
        cast(restance_kr as decimal(18, 2)) as rent_arrears_dkk,
        coalesce(flyttet_permanent, 0) as moved_to_permanent,

    from source

)

select * from renamed
