{#-
    The `joblog` extract (Jobloggen registrations) renamed and cast: one row per registration
    event. The free-text columns (stilling, arbejdsgiver) never reach the warehouse.
-#}
with

source as (

    {{ source_or_empty('raw', 'joblog', {
        'month': 'date',
        'load_id': 'varchar',
        'line_number': 'bigint',
        'person_key': 'varchar',
        'person_id': 'uhugeint',
        'birth_date': 'date',
        'sex': 'varchar',
        'kommunekode': 'integer',
        'soegning_id': 'varchar',
        'registreret_dato': 'date',
        'status': 'varchar',
    }) }}

),

renamed as (

    select
        month as report_month,
        load_id,
        line_number,
        person_id,
        birth_date,
        sex,
        kommunekode as municipality_code,
        soegning_id as application_id,
        registreret_dato as registered_date,
        status as application_status,

    from source

)

select * from renamed
