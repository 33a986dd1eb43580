-- the LAPD call codes in each call type group
select call_type_group, code, label, meaning, pilot, code_table_version
from call_types
order by call_type_group, code
