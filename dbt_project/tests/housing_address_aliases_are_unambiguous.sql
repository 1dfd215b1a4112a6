{#-
    Every spelling in the seed housing_address_aliases (variants and canonical names, compared
    on the matching key) must lead to one canonical address per municipality; otherwise a
    delivered name could resolve to two addresses.
-#}
with

aliases as (

    select * from {{ ref('housing_address_aliases') }}

),

spellings as (

    select kommunekode, {{ address_key('address_variant') }} as address_key, address from aliases
    union
    select kommunekode, {{ address_key('address') }} as address_key, address from aliases

),

final as (

    select
        kommunekode,
        address_key,
        count(distinct address) as canonical_addresses,
    from spellings
    group by all
    having count(distinct address) > 1

)

select * from final
