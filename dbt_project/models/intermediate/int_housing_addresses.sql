{#-
    Housing rows with the address name normalised (issue 7). Names are matched on a key that
    ignores case, punctuation and repeated spaces; the seed `housing_address_aliases` (data,
    editable by the housing staff or BI team) maps every known variant - and each canonical
    name to itself - to one canonical name per municipality. An unmapped name is kept as
    delivered (trimmed, single spaces); the data test
    `housing_addresses_without_one_canonical_name` warns when two names share a key.
-#}
with

addresses as (

    select * from {{ ref('stg_indkvartering__addresses') }}

),

aliases as (

    select * from {{ ref('housing_address_aliases') }}

),

alias_keys as (

    select distinct
        cast(kommunekode as integer) as municipality_code,
        {{ address_key('address_variant') }} as address_key,
        address,
    from aliases
    union
    select distinct
        cast(kommunekode as integer) as municipality_code,
        {{ address_key('address') }} as address_key,
        address,
    from aliases

),

cleaned as (

    select
        *,
        regexp_replace(trim(address_as_delivered), '\s+', ' ', 'g') as address_cleaned,
        {{ address_key('address_as_delivered') }} as address_key,

    from addresses

),

final as (

    select
        cleaned.report_month,
        cleaned.load_id,
        cleaned.line_number,
        cleaned.municipality_code,
        cleaned.address_as_delivered,
        cleaned.address_key,
        cleaned.rooms,
        cleaned.vacant_rooms,
        cleaned.housed,
        cleaned.households,
        cleaned.moved_to_permanent,
        cleaned.rent_arrears_persons,
        cleaned.rent_arrears_dkk,
        coalesce(alias_keys.address, cleaned.address_cleaned) as address,
        alias_keys.address is not null as is_address_mapped,

    from cleaned
    left join alias_keys
        on
            cleaned.municipality_code = alias_keys.municipality_code
            and cleaned.address_key = alias_keys.address_key

)

select * from final
